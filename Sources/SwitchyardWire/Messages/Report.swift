/// REPORT request, owned (what a client builds). It carries the payment's
/// segment fields so that any instance can credit the outcome fully, also
/// one that did not make the decision.
public struct ReportRequest: Hashable, Sendable {
    public var merchantID: String
    public var decisionID: UInt64
    public var paymentID: String
    public var attempt: UInt8
    public var gateway: String
    /// 1 success, 2 declined by customer or issuer, 3 gateway error, 4 timeout.
    public var outcome: UInt8
    public var latencyMilliseconds: UInt32
    public var method: String
    public var currency: String
    public var amount: UInt64
    public var cardNetwork: String

    public init(
        merchantID: String, decisionID: UInt64, paymentID: String, attempt: UInt8 = 1, gateway: String, outcome: UInt8,
        latencyMilliseconds: UInt32, method: String, currency: String, amount: UInt64, cardNetwork: String = ""
    ) {
        self.merchantID = merchantID
        self.decisionID = decisionID
        self.paymentID = paymentID
        self.attempt = attempt
        self.gateway = gateway
        self.outcome = outcome
        self.latencyMilliseconds = latencyMilliseconds
        self.method = method
        self.currency = currency
        self.amount = amount
        self.cardNetwork = cardNetwork
    }

    public func write(to writer: inout BodyWriter) {
        writer.str8(merchantID)
        writer.u64(decisionID)
        writer.str8(paymentID)
        writer.u8(attempt)
        writer.str8(gateway)
        writer.u8(outcome)
        writer.u32(latencyMilliseconds)
        writer.str8(method)
        writer.str8(currency)
        writer.u64(amount)
        writer.str8(cardNetwork)
    }
}

/// REPORT request as the server reads it: views into the frame body.
public struct ReportRequestView {
    public let payment: PaymentFieldsView
    public let decisionID: UInt64
    public let gateway: UnsafeRawBufferPointer
    public let outcome: UInt8
    public let latencyMilliseconds: UInt32

    public static let layout: StaticString =
        "REPORT body is str8 merchant_id, u64 decision_id, str8 payment_id, u8 attempt, str8 gateway, u8 outcome, u32 latency_ms, str8 method, str8 currency, u64 amount, str8 card_network"

    public init?(body: UnsafeRawBufferPointer) {
        var reader = BodyReader(body)
        let merchantID = reader.str8()
        decisionID = reader.u64()
        let paymentID = reader.str8(), attempt = reader.u8()
        gateway = reader.str8()
        outcome = reader.u8()
        latencyMilliseconds = reader.u32()
        let method = reader.str8(), currency = reader.str8(), amount = reader.u64(), network = reader.str8()
        payment = PaymentFieldsView(
            merchantID: merchantID, paymentID: paymentID, attempt: attempt, method: method, currency: currency,
            amount: amount, cardNetwork: network)
        guard reader.isComplete else { return nil }
    }
}

/// REPORT reply: what became of the report.
public enum ReportResult: UInt8, Sendable, CaseIterable {
    case recorded = 0
    /// This (payment, attempt) was reported before; nothing changed.
    case duplicate = 1
    /// Recorded, but this instance did not make the decision (another instance, a restart, no id).
    case recordedUnknownDecision = 2
}
