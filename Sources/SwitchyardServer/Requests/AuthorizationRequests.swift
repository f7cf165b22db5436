import SwitchyardCore
import SwitchyardWire

/// AUTHORIZE: validate the request, decide on the loop's authorization
/// table, write the reply. A refusal is a successful reply with a reason;
/// error statuses are for requests that cannot be evaluated. No allocation,
/// no lock: limits are atomics.
extension RequestHandler {
    /// The longest credential accepted, in bytes.
    static let maxCredentialBytes = 512

    func authorize(
        _ request: FrameHeader, body: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
        _ publication: RoutingService.Publication
    ) -> Int {
        withRequest(
            request, body, output, parse: AuthorizeRequestView.init(body:),
            layout: AuthorizeRequestView.layout
        ) { view in
            var written = 0
            let authorization = publication.authorization
            let merchant = authorization.merchants.index(of: view.merchantID)
            guard checkAuthorization(view, merchant, authorization, request, output, written: &written) else {
                return written
            }
            let reply = authorizeReply(view, operation: view.extensions.operation, merchant, publication, routing)
            auditAuthorization(
                AuditSubject(
                    request: .authorize, merchantID: view.merchantID, operation: view.extensions.operation,
                    extensions: view.extensions), reply)
            return FrameEncoder.encode(into: output, header: replyHeader(for: request)) { reply.write(to: &$0) }!
        }
    }

    /// DECIDE: AUTHORIZE, then, when allowed, ROUTE. Every field is checked
    /// before anything is spent; a denial spends nothing on routing.
    func decide(
        _ request: FrameHeader, body: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
        _ publication: RoutingService.Publication
    ) -> Int {
        withRequest(
            request, body, output, parse: DecideRequestView.init(body:), layout: DecideRequestView.layout
        ) { view in
            var written = 0
            let authorization = publication.authorization
            let snapshot = publication.snapshot
            // One lookup serves both tables: they list the merchants in the
            // same order, and a loop takes them from the same publication.
            let merchant = authorization.merchants.index(of: view.authorize.merchantID)
            guard checkAuthorization(view.authorize, merchant, authorization, request, output, written: &written)
            else {
                return written
            }
            // An unknown merchant is AUTHORIZE's denial, not a routing error.
            var query: RouteQuery?
            if merchant != nil {
                guard
                    let valid = routeQuery(
                        view.route, snapshot.table, routing, request, output, written: &written,
                        merchant: .some(merchant))
                else { return written }
                query = valid
            }
            let reply = authorizeReply(
                view.authorize, operation: view.route.extensions.operation, merchant, publication, routing)
            let subject = AuditSubject(
                request: .decide, merchantID: view.authorize.merchantID, operation: view.route.extensions.operation,
                extensions: view.route.extensions, payment: view.route.payment)
            guard reply.allowed, let query else {
                auditAuthorization(subject, reply)
                return FrameEncoder.encode(into: output, header: replyHeader(for: request)) { reply.write(to: &$0) }!
            }
            // Allowed: the units are spent; a routing failure is then an error reply.
            if let failure = decideRoute(query, publication, routing) {
                auditFailure(subject, failure)
                let (status, message) = RequestHandler.describe(failure)
                return writeError(status, for: request, close: false, into: output, message)
            }
            var writer = FrameEncoder.bodyWriter(in: output)
            reply.write(to: &writer)
            writeRoute(publication, query, routing, subject, to: &writer)
            return FrameEncoder.finish(writer, header: replyHeader(for: request), in: output)
                ?? writeError(.internalError, for: request, close: false, into: output, "DECIDE reply did not fit")
        }
    }

    /// The checks that need no merchant state; on a refusal writes the error
    /// reply, sets `written` and returns false.
    private func checkAuthorization(
        _ view: AuthorizeRequestView, _ merchant: Int?, _ authorization: AuthorizationTable, _ request: FrameHeader,
        _ output: UnsafeMutableRawBufferPointer, written: inout Int
    ) -> Bool {
        func refuse(_ status: Status, _ message: StaticString) -> Bool {
            written = writeError(status, for: request, close: false, into: output, message)
            return false
        }
        switch view.credentialKind {
        case 1:
            guard (1...RequestHandler.maxCredentialBytes).contains(view.credential.count) else {
                return refuse(.invalidCredential, "an API key must be 1 to 512 bytes")
            }
        case 2 where authorization.tokens != nil:
            guard (1...TokenVerifier.maxTokenBytes).contains(view.credential.count) else {
                return refuse(.invalidCredential, "a bearer token must be 1 to 4096 bytes")
            }
        default:
            return refuse(
                .unsupportedCredential,
                "credential_kind must be 1 (API key), or 2 (bearer token) when authorization.tokens is configured")
        }
        guard (1...64).contains(view.merchantID.count) else {
            return refuse(.malformedBody, "merchant_id must be 1 to 64 bytes")
        }
        let cost = Int(view.cost)
        if cost < 1 || merchant.map({ cost > authorization.maxCost(merchant: $0) }) == true {
            return refuse(.invalidCost, "cost must be 1 to the largest burst + 1 of the merchant's limits")
        }
        return true
    }

    /// `operation`: what the request is for (AUTHORIZE's extension, or DECIDE's after its ROUTE fields).
    private func authorizeReply(
        _ view: AuthorizeRequestView, operation: UnsafeRawBufferPointer, _ merchant: Int?,
        _ publication: RoutingService.Publication, _ routing: LoopRouting
    ) -> AuthorizeReply {
        let verdict = publication.authorization.authorize(
            AuthorizationQuery(
                merchantID: view.merchantID, key: view.credential, isToken: view.credentialKind == 2,
                address: view.clientAddress, cost: Int(view.cost), now: routing.now, wallSeconds: routing.wallSeconds,
                operation: operation, tokenCache: routing.tokenCache), merchant: merchant)
        publication.counters.countAuthorization(loop: routing.loopIndex, merchant: merchant, reason: verdict.reason)
        return AuthorizeReply(
            allowed: verdict.allowed, reason: verdict.reason.rawValue, limit: UInt32(clamping: verdict.limit),
            remaining: UInt32(clamping: verdict.remaining),
            retryAfterMilliseconds: RequestHandler.milliseconds(roundingUp: verdict.retryAfter),
            resetAfterMilliseconds: RequestHandler.milliseconds(roundingUp: verdict.resetAfter))
    }

    /// Waits are rounded up: a client that waits the stated time succeeds.
    static func milliseconds(roundingUp nanoseconds: UInt64) -> UInt32 {
        UInt32(clamping: nanoseconds / 1_000_000 + (nanoseconds % 1_000_000 == 0 ? 0 : 1))
    }
}
