import SwitchyardCore
import SwitchyardPosix
import SwitchyardWire

/// The audit log's records of requests: put together on the loop in binary
/// (``AuditEvent``) and handed whole to its ring; the writer thread turns
/// them into JSON (see ``AuditLog``). Only the merchant, operation, payment
/// and trace ids come from the request: never its credential.
extension RequestHandler {
    /// Who and what a record is about, as the request gave them.
    struct AuditSubject {
        let request: AuditEvent.Request
        let merchantID: UnsafeRawBufferPointer
        let operation: UnsafeRawBufferPointer
        let extensions: RequestExtensions
        /// ROUTE and DECIDE only.
        var payment: PaymentFieldsView?
    }

    /// An AUTHORIZE's or DECIDE's verdict, when the log records it (every
    /// denial; allows when configured, and never DECIDE's, which its
    /// decision's record stands for).
    func auditAuthorization(_ subject: AuditSubject, _ reply: AuthorizeReply) {
        guard let audit = routing.audit, reply.allowed ? audit.allows : audit.denials else { return }
        let length = begin(subject, .authorization, reason: reply.reason)
        audit.ring.append(AuditEvent.finish(routing.auditScratch.baseAddress!, length: length))
    }

    /// A ROUTE or DECIDE that found no gateway.
    func auditFailure(_ subject: AuditSubject, _ failure: RouteFailure) {
        guard let audit = routing.audit, audit.decisions else { return }
        let length = begin(subject, .failure, reason: failure.code)
        audit.ring.append(AuditEvent.finish(routing.auditScratch.baseAddress!, length: length))
    }

    /// The loop's decision (`routing.decision`, read in place: passing it
    /// would copy it and retain its arrays even with no audit log): the list
    /// offered with each gateway's reason and figures, the first gateway's
    /// propensity, the rule followed, and the table that names them.
    func auditDecision(_ subject: AuditSubject, decisionID: UInt64, table: RoutingTable) {
        guard let audit = routing.audit, audit.decisions else { return }
        let routing = self.routing
        let record = routing.auditScratch.baseAddress!
        var length = begin(subject, .decision, reason: 0)
        record.storeBytes(of: decisionID, toByteOffset: AuditEvent.decisionAt, as: UInt64.self)
        record.storeBytes(
            of: routing.decision.firstProbability, toByteOffset: AuditEvent.propensityAt, as: Double.self)
        record.storeBytes(of: Int32(routing.decision.rule), toByteOffset: AuditEvent.ruleAt, as: Int32.self)
        let count = routing.decision.entries.count
        record.storeBytes(of: UInt8(count), toByteOffset: AuditEvent.entryCountAt, as: UInt8.self)
        for i in 0..<count {
            let entry = routing.decision.entries[i]
            record.storeBytes(of: UInt16(entry.gateway), toByteOffset: length, as: UInt16.self)
            record.storeBytes(of: entry.reason.rawValue, toByteOffset: length + 2, as: UInt16.self)
            record.storeBytes(of: entry.score, toByteOffset: length + 4, as: Double.self)
            record.storeBytes(of: entry.successRate, toByteOffset: length + 12, as: Double.self)
            length += AuditEvent.entryBytes
        }
        let names = Unmanaged.passRetained(table)
        record.storeBytes(of: UInt(bitPattern: names.toOpaque()), toByteOffset: AuditEvent.tableAt, as: UInt.self)
        // A record with no room is dropped (and counted): so is its hold on the table.
        if !audit.ring.append(AuditEvent.finish(record, length: length)) { names.release() }
    }

    private func begin(_ subject: AuditSubject, _ kind: AuditEvent.Kind, reason: UInt16) -> Int {
        AuditEvent.begin(
            routing.auditScratch.baseAddress!, kind: kind, request: subject.request, reason: reason,
            attempt: subject.payment?.attempt ?? 0,
            strings: (
                subject.merchantID, subject.operation,
                subject.payment?.paymentID ?? UnsafeRawBufferPointer(start: nil, count: 0),
                subject.extensions.traceID, subject.extensions.parentID
            ), unixNanoseconds: WallClock.nanoseconds())
    }
}
