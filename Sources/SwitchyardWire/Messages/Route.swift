public import CRouting

/// ROUTE request, owned (what a client builds).
public struct RouteRequest: Hashable, Sendable {
    public var merchantID: String
    public var paymentID: String
    public var attempt: UInt8
    public var method: String
    public var currency: String
    public var amount: UInt64
    public var cardNetwork: String
    public var tried: [String]
    /// Labels for routing rules' `labels` conditions (up to 16; keys 1 to
    /// 32 bytes, values up to 64). Sent only when there are some.
    public var labels: [String: String]
    /// The caller's W3C `traceparent`, for the audit log; sent only when given.
    public var traceparent: String?

    public init(
        merchantID: String, paymentID: String, attempt: UInt8 = 1, method: String, currency: String, amount: UInt64,
        cardNetwork: String = "", tried: [String] = [], labels: [String: String] = [:], traceparent: String? = nil
    ) {
        self.merchantID = merchantID
        self.paymentID = paymentID
        self.attempt = attempt
        self.method = method
        self.currency = currency
        self.amount = amount
        self.cardNetwork = cardNetwork
        self.tried = tried
        self.labels = labels
        self.traceparent = traceparent
    }

    public func write(to writer: inout BodyWriter) {
        writer.str8(merchantID)
        writeFields(to: &writer)
        RequestExtensions.write(labels: labels, operation: nil, traceparent: traceparent, to: &writer)
    }

    /// The fields after merchant_id up to the extensions: DECIDE carries
    /// these after its AUTHORIZE fields, then the extensions of both.
    func writeFields(to writer: inout BodyWriter) {
        writer.str8(paymentID)
        writer.u8(attempt)
        writer.str8(method)
        writer.str8(currency)
        writer.u64(amount)
        writer.str8(cardNetwork)
        writer.u8(UInt8(truncatingIfNeeded: tried.count))
        for gateway in tried { writer.str8(gateway) }
    }
}

/// The payment fields ROUTE and REPORT both carry, as views into a frame
/// body (valid while the body is).
public struct PaymentFieldsView {
    public let merchantID: UnsafeRawBufferPointer
    public let paymentID: UnsafeRawBufferPointer
    public let attempt: UInt8
    public let method: UnsafeRawBufferPointer
    public let currency: UnsafeRawBufferPointer
    public let amount: UInt64
    public let cardNetwork: UnsafeRawBufferPointer
}

/// ROUTE request as the server reads it: views into the frame body, valid
/// while the body is, so decoding allocates nothing.
public struct RouteRequestView {
    public let payment: PaymentFieldsView
    public let triedCount: Int
    /// The `tried` ids, still length-prefixed: walk them with ``forEachTried(_:)``.
    let triedBytes: UnsafeRawBufferPointer
    /// The optional fields after `tried` (labels; for DECIDE, the operation too).
    public let extensions: RequestExtensions

    public static let layout: StaticString =
        "ROUTE body is str8 merchant_id, str8 payment_id, u8 attempt, str8 method, str8 currency, u64 amount, str8 card_network, u8 tried_count, str8 x tried_count, then optional extensions (u8 tag, str16 content): labels (tag 1) are u8 count (up to 16), then str8 key (1 to 32 bytes, none twice) and str8 value (up to 64) each; operation (tag 2) is 1 to 64 bytes"

    /// Nil when the body does not match the layout.
    public init?(body: UnsafeRawBufferPointer) {
        var reader = BodyReader(body)
        let merchantID = reader.str8()
        self.init(reading: &reader, merchantID: merchantID)
        guard fillsBody, !reader.failed else { return nil }
    }

    /// Whether the tried ids and the extensions filled the rest of the body exactly.
    let fillsBody: Bool

    /// Reads the fields after merchant_id to the end of the body.
    init(reading reader: inout BodyReader, merchantID: UnsafeRawBufferPointer) {
        let paymentID = reader.str8(), attempt = reader.u8()
        let method = reader.str8(), currency = reader.str8(), amount = reader.u64(), network = reader.str8()
        payment = PaymentFieldsView(
            merchantID: merchantID, paymentID: paymentID, attempt: attempt, method: method, currency: currency,
            amount: amount, cardNetwork: network)
        triedCount = Int(reader.u8())
        let rest = reader.rest()
        var walker = BodyReader(rest)
        for _ in 0..<triedCount { _ = walker.str8() }
        let triedLength = walker.failed ? 0 : rest.count - walker.remaining
        triedBytes = UnsafeRawBufferPointer(rebasing: rest[..<triedLength])
        let extensions = walker.failed ? nil : RequestExtensions(UnsafeRawBufferPointer(rebasing: rest[triedLength...]))
        self.extensions = extensions ?? .none
        fillsBody = extensions != nil
    }

    /// Calls `body` with each tried gateway id, in order.
    public func forEachTried(_ body: (UnsafeRawBufferPointer) -> Void) {
        var walker = BodyReader(triedBytes)
        for _ in 0..<triedCount { body(walker.str8()) }
    }
}

/// ROUTE reply: the decision id, the probability of the first choice, and
/// the failover list.
public struct RouteReply: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var gateway: String
        public var reason: UInt16
        /// Estimated success rate, parts per million.
        public var successRatePPM: UInt32
        public var latencyMilliseconds: UInt32
        public var scorePPM: UInt32

        public init(
            gateway: String, reason: UInt16, successRatePPM: UInt32, latencyMilliseconds: UInt32, scorePPM: UInt32
        ) {
            self.gateway = gateway
            self.reason = reason
            self.successRatePPM = successRatePPM
            self.latencyMilliseconds = latencyMilliseconds
            self.scorePPM = scorePPM
        }
    }

    public var decisionID: UInt64
    public var firstProbabilityPPM: UInt32
    public var entries: [Entry]

    public init(decisionID: UInt64, firstProbabilityPPM: UInt32, entries: [Entry]) {
        self.decisionID = decisionID
        self.firstProbabilityPPM = firstProbabilityPPM
        self.entries = entries
    }

    public func write(to writer: inout BodyWriter) {
        RouteReply.writeHead(
            decisionID: decisionID, firstProbabilityPPM: firstProbabilityPPM, count: entries.count, to: &writer)
        for entry in entries {
            var gateway = entry.gateway
            gateway.withUTF8 {
                RouteReply.writeEntry(
                    gateway: UnsafeRawBufferPointer($0), reason: entry.reason, successRatePPM: entry.successRatePPM,
                    latencyMilliseconds: entry.latencyMilliseconds, scorePPM: entry.scorePPM, to: &writer)
            }
        }
    }

    /// The fields before the entries; the server writes these and then each
    /// entry straight from its decision.
    @inlinable
    public static func writeHead(
        decisionID: UInt64, firstProbabilityPPM: UInt32, count: Int, to writer: inout BodyWriter
    ) {
        writer.u64(decisionID)
        writer.u32(firstProbabilityPPM)
        writer.u8(UInt8(truncatingIfNeeded: count))
    }

    @inlinable
    public static func writeEntry(
        gateway: UnsafeRawBufferPointer, reason: UInt16, successRatePPM: UInt32, latencyMilliseconds: UInt32,
        scorePPM: UInt32, to writer: inout BodyWriter
    ) {
        cr_write_route_entry(
            &writer.raw, gateway.baseAddress, gateway.count, reason, successRatePPM, latencyMilliseconds, scorePPM)
    }

    /// Decodes a reply; trailing bytes are ignored (later versions may add fields).
    public init?(body: UnsafeRawBufferPointer) {
        var reader = BodyReader(body)
        decisionID = reader.u64()
        firstProbabilityPPM = reader.u32()
        let count = Int(reader.u8())
        entries = []
        for _ in 0..<count {
            let name = reader.str8()
            let reason = reader.u16(), rate = reader.u32(), latency = reader.u32(), score = reader.u32()
            guard !reader.failed, let gateway = name.utf8String else { return nil }
            entries.append(
                Entry(
                    gateway: gateway, reason: reason, successRatePPM: rate, latencyMilliseconds: latency,
                    scorePPM: score))
        }
        guard !reader.failed else { return nil }
    }
}
