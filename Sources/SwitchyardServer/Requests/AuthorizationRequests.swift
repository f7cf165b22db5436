import SwitchyardCore
import SwitchyardWire

/// AUTHORIZE: validate the request, decide on the loop's authorization
/// table, write the reply. A refusal is a successful reply with a reason;
/// error statuses are for requests that cannot be evaluated. No allocation,
/// no lock: limits are atomics.
extension RequestHandler {
    /// The longest credential accepted, in bytes.
    static let maxCredentialBytes = 512

    func authorize(_ request: FrameHeader, body: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer)
        -> Int
    {
        guard let routing else {
            return writeError(.notImplemented, for: request, close: false, into: output, "authorization is not enabled")
        }
        guard let view = AuthorizeRequestView(body: body) else {
            return writeError(.malformedBody, for: request, close: false, into: output, AuthorizeRequestView.layout)
        }
        guard view.credentialKind == 1 else {
            return writeError(
                .unsupportedCredential, for: request, close: false, into: output,
                "credential_kind must be 1 (API key)")
        }
        guard (1...RequestHandler.maxCredentialBytes).contains(view.credential.count) else {
            return writeError(
                .invalidCredential, for: request, close: false, into: output, "credential must be 1 to 512 bytes")
        }
        guard (1...64).contains(view.merchantID.count) else {
            return writeError(
                .malformedBody, for: request, close: false, into: output, "merchant_id must be 1 to 64 bytes")
        }
        let table = routing.authorization
        let cost = Int(view.cost)
        if cost < 1 || table.merchants.index(of: view.merchantID).map({ cost > table.maxCost(merchant: $0) }) == true {
            return writeError(
                .invalidCost, for: request, close: false, into: output,
                "cost must be 1 to the largest burst + 1 of the merchant's limits")
        }
        let verdict = table.authorize(
            AuthorizationQuery(
                merchantID: view.merchantID, key: view.credential, address: view.clientAddress, cost: cost,
                now: routing.now, wallSeconds: routing.wallSeconds))
        let reply = AuthorizeReply(
            allowed: verdict.allowed, reason: verdict.reason.rawValue, limit: UInt32(clamping: verdict.limit),
            remaining: UInt32(clamping: verdict.remaining),
            retryAfterMilliseconds: RequestHandler.milliseconds(roundingUp: verdict.retryAfter),
            resetAfterMilliseconds: RequestHandler.milliseconds(roundingUp: verdict.resetAfter))
        return FrameEncoder.encode(into: output, header: replyHeader(for: request)) { reply.write(to: &$0) }!
    }

    /// Waits are rounded up: a client that waits the stated time succeeds.
    static func milliseconds(roundingUp nanoseconds: UInt64) -> UInt32 {
        UInt32(clamping: nanoseconds / 1_000_000 + (nanoseconds % 1_000_000 == 0 ? 0 : 1))
    }
}
