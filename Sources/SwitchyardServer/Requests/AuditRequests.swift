import SwitchyardCore
import SwitchyardPosix
import SwitchyardWire

/// The audit log's records of requests: written on the loop into its
/// scratch buffer and handed whole to its ring (see ``AuditLog``). Only the
/// merchant, operation, payment and trace ids come from the request: never
/// its credential.
extension RequestHandler {
    /// Who and what a record is about, as the request gave them.
    struct AuditSubject {
        /// `authorize`, `route` or `decide`.
        let event: StaticString
        let merchantID: UnsafeRawBufferPointer
        let operation: UnsafeRawBufferPointer
        let extensions: RequestExtensions
        /// ROUTE and DECIDE only.
        var payment: PaymentFieldsView?
    }

    /// An AUTHORIZE's or DECIDE's verdict, when the log records it (every
    /// denial; allows when configured, and never DECIDE's, which its decision's record stands for).
    func auditAuthorization(_ subject: AuditSubject, _ reply: AuthorizeReply) {
        guard let audit = routing.audit, let reason = AuthorizationReason(rawValue: reply.reason) else { return }
        let allowed = reply.allowed
        guard allowed ? audit.events.contains(.allows) : audit.events.contains(.denials) else { return }
        var record = begin(subject, result: allowed ? "allowed" : "denied")
        record.text("reason", reason.snakeCase)
        finish(&record, subject, ring: audit.ring)
    }

    /// A ROUTE or DECIDE that found no gateway.
    func auditFailure(_ subject: AuditSubject, _ failure: RouteFailure) {
        guard let audit = routing.audit, audit.events.contains(.decisions) else { return }
        var record = begin(subject, result: "failed")
        record.text("reason", failure.snakeCase)
        finish(&record, subject, ring: audit.ring)
    }

    /// The loop's decision (`routing.decision`, read in place: passing it
    /// would copy it and retain its arrays even with no audit log): the list
    /// offered, with each gateway's reason and figures, the first gateway's
    /// propensity and the rule followed.
    func auditDecision(_ subject: AuditSubject, decisionID: UInt64, table: RoutingTable) {
        guard let audit = routing.audit, audit.events.contains(.decisions) else { return }
        let routing = self.routing
        var record = begin(subject, result: "routed")
        record.text("reason", routing.decision.entries.first?.reason.snakeCase ?? "none")
        record.numberText("decision_id", decisionID)
        if routing.decision.rule >= 0 {
            var name = table.rules.name(of: routing.decision.rule)
            name.withUTF8 { record.text("rule", bytes: UnsafeRawBufferPointer($0)) }
        } else {
            record.null("rule")
        }
        record.decimal("propensity", routing.decision.firstProbability)
        record.beginArray("gateways")
        for i in 0..<routing.decision.entries.count {
            let entry = routing.decision.entries[i]
            record.beginElement()
            record.text("gateway", bytes: table.gatewayIDs.bytes(of: entry.gateway))
            record.text("reason", entry.reason.snakeCase)
            record.decimal("score", entry.score)
            record.decimal("success_rate", entry.successRate)
            record.endElement()
        }
        record.endArray()
        finish(&record, subject, ring: audit.ring)
    }

    private func begin(_ subject: AuditSubject, result: StaticString) -> AuditRecord {
        var record = AuditRecord(
            into: routing.auditScratch, event: subject.event, unixNanoseconds: WallClock.nanoseconds())
        record.text("merchant", bytes: subject.merchantID)
        record.text("operation", bytes: subject.operation)
        if let payment = subject.payment {
            record.text("payment_id", bytes: payment.paymentID)
            record.number("attempt", UInt64(payment.attempt))
        }
        record.text("result", result)
        return record
    }

    private func finish(_ record: inout AuditRecord, _ subject: AuditSubject, ring: AuditRing) {
        record.text("trace_id", bytes: subject.extensions.traceID)
        record.text("parent_id", bytes: subject.extensions.parentID)
        guard let bytes = record.finish() else { return ring.countDropped() }
        ring.append(bytes)
    }
}
