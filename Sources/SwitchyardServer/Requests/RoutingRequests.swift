import SwitchyardCore
import SwitchyardWire

/// ROUTE and REPORT: validate the request against the loop's snapshot,
/// decide or record, write the reply. No allocation, no lock.
extension RequestHandler {
    /// Amounts above this (10^15 minor units) are refused as absurd.
    static let maxAmount: UInt64 = 1_000_000_000_000_000

    /// The longest ROUTE reply the table can produce.
    static func routeReplyBound(_ table: RoutingTable) -> Int {
        13 + table.gatewayCount * (1 + 64 + 14)
    }

    /// What ROUTE and REPORT share: merchant, payment, attempt, method, currency, amount.
    private struct Payment {
        var merchant: Int
        var method: Int
        var currency: Int
        var segment: Segment
    }

    /// Resolves the fields ROUTE and REPORT share against the table; on a
    /// refusal writes the error reply, sets `written` to its length and returns nil.
    /// `merchant`: the caller's lookup of `fields.merchantID` in `table`, if it made one.
    private func validate(
        _ fields: PaymentFieldsView, _ table: RoutingTable, _ request: FrameHeader,
        _ output: UnsafeMutableRawBufferPointer, written: inout Int, merchant known: Int?? = nil
    ) -> Payment? {
        func refuse(_ status: Status, _ message: StaticString) -> Payment? {
            written = writeError(status, for: request, close: false, into: output, message)
            return nil
        }
        guard let merchant = known ?? table.merchants.index(of: fields.merchantID) else {
            return refuse(.unknownMerchant, "unknown merchant")
        }
        guard (1...64).contains(fields.paymentID.count) else {
            return refuse(.malformedBody, "payment_id must be 1 to 64 bytes")
        }
        guard fields.attempt >= 1, Int(fields.attempt) <= table.routing.maxAttempts else {
            return refuse(.invalidAttempt, "attempt must be 1 to routing.max_attempts")
        }
        guard let method = table.methods.index(of: fields.method) else {
            return refuse(.unknownMethod, "no configured gateway takes this method")
        }
        guard let currency = table.currencies.index(of: fields.currency) else {
            return refuse(.unknownCurrency, "no configured gateway takes this currency")
        }
        guard fields.amount >= 1, fields.amount <= RequestHandler.maxAmount else {
            return refuse(.invalidAmount, "amount must be 1 to 10^15 minor units")
        }
        let segment = table.segment(
            method: method, network: fields.cardNetwork, currency: currency, amount: fields.amount)
        return Payment(merchant: merchant, method: method, currency: currency, segment: segment)
    }

    func route(
        _ request: FrameHeader, body: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
        _ publication: RoutingService.Publication
    ) -> Int {
        withRequest(
            request, body, output, parse: RouteRequestView.init(body:), layout: RouteRequestView.layout
        ) { view in
            var written = 0
            let snapshot = publication.snapshot
            guard let query = routeQuery(view, snapshot.table, routing, request, output, written: &written) else {
                return written
            }
            let subject = AuditSubject(
                request: .route, merchantID: view.payment.merchantID,
                operation: UnsafeRawBufferPointer(start: nil, count: 0),
                extensions: view.extensions, payment: view.payment)
            if let failure = decideRoute(query, publication, routing) {
                auditFailure(subject, failure)
                let (status, message) = RequestHandler.describe(failure)
                return writeError(status, for: request, close: false, into: output, message)
            }
            var writer = FrameEncoder.bodyWriter(in: output)
            writeRoute(publication, query, routing, subject, to: &writer)
            return FrameEncoder.finish(writer, header: replyHeader(for: request), in: output)
                ?? writeError(.internalError, for: request, close: false, into: output, "ROUTE reply did not fit")
        }
    }

    /// The query a ROUTE (or DECIDE) asks, validated against `table` (the
    /// loop's, read once by the caller); on a refusal writes the error
    /// reply, sets `written` and returns nil.
    func routeQuery(
        _ view: RouteRequestView, _ table: RoutingTable, _ routing: LoopRouting, _ request: FrameHeader,
        _ output: UnsafeMutableRawBufferPointer, written: inout Int, merchant: Int?? = nil
    ) -> RouteQuery? {
        guard let payment = validate(view.payment, table, request, output, written: &written, merchant: merchant)
        else { return nil }
        guard view.triedCount <= table.gatewayCount else {
            written = writeError(
                .invalidTried, for: request, close: false, into: output, "more tried gateways than exist")
            return nil
        }
        var tried: UInt64 = 0
        var unknownTried = false
        view.forEachTried { id in
            if let gateway = table.gatewayIDs.index(of: id) {
                tried |= 1 << UInt64(gateway)
            } else {
                unknownTried = true
            }
        }
        if unknownTried {
            written = writeError(.invalidTried, for: request, close: false, into: output, "unknown gateway in tried")
            return nil
        }
        // A probe must reach the merger to be timed; with no room, decide without one.
        var query = RouteQuery(
            merchant: payment.merchant, method: payment.method, currency: payment.currency,
            amount: view.payment.amount, segment: payment.segment, tried: tried, probes: routing.ring.hasRoom(for: 1))
        if !table.rules.isEmpty {
            query.attempt = Int(view.payment.attempt)
            if table.rules.hasSplits { query.paymentHash = RoutingRule.splitHash(paymentID: view.payment.paymentID) }
            if view.payment.cardNetwork.count > 0 {
                query.ruleNetwork = table.ruleNetworks.index(of: view.payment.cardNetwork) ?? RuleTable.unnamed
            }
            view.extensions.forEachLabel { key, value in
                table.rules.pack(label: key, value: value, into: &query.ruleLabels)
            }
        }
        return query
    }

    /// Decides on the publication's snapshot into `routing.decision`,
    /// counts it (and what the rules in shadow would have done) and hands a
    /// spent probe to the merger.
    func decideRoute(_ query: RouteQuery, _ publication: RoutingService.Publication, _ routing: LoopRouting)
        -> RouteFailure?
    {
        let luck = routing.random
        let failure = routing.cache.decide(
            query, snapshot: publication.snapshot, into: &routing.decision, random: &routing.random)
        let counters = publication.counters
        let loop = routing.loopIndex
        if publication.snapshot.table.rules.hasShadow {
            Router.shadow(
                query, followed: routing.decision.rule >= 0 ? routing.decision.rule : nil,
                first: failure == nil ? routing.decision.entries[0].gateway : nil, snapshot: publication.snapshot,
                luck: luck, scratch: &routing.shadowDecision
            ) { rule, verdict in
                counters.countRule(loop: loop, rule: rule, .shadowMatches)
                switch verdict {
                case .agrees: break
                case .differs: counters.countRule(loop: loop, rule: rule, .shadowDiffers)
                case .refuses: counters.countRule(loop: loop, rule: rule, .shadowRefusals)
                }
            }
        }
        if let failure { return failure }
        if routing.decision.rule >= 0 { counters.countRule(loop: loop, rule: routing.decision.rule, .decisions) }
        counters.countDecision(loop: loop, gateway: routing.decision.entries[0].gateway, method: query.method)
        if let probe = routing.decision.probe {
            routing.ring.push(
                .probe(
                    breaker: probe.breaker, generation: probe.generation, tableGeneration: publication.tableGeneration))
        }
        return nil
    }

    /// The ROUTE reply fields of `routing.decision` (made for `query` on the
    /// publication's snapshot), under a new decision id, which the loop's
    /// decision log remembers for `ADMIN_EXPLAIN` and the audit log records.
    func writeRoute(
        _ publication: RoutingService.Publication, _ query: RouteQuery, _ routing: LoopRouting,
        _ subject: AuditSubject, to writer: inout BodyWriter
    ) {
        let snapshot = publication.snapshot
        let table = snapshot.table
        let decisionID = routing.nextDecisionID(on: snapshot)
        let log = routing.decisionLog
        log.begin(
            decisionID, query: query, firstProbability: routing.decision.firstProbability,
            listLength: routing.decision.entries.count, rule: routing.decision.rule, snapshotVersion: snapshot.version,
            tableGeneration: publication.tableGeneration, at: routing.now)
        // Read in place: a copy of the decision would retain its arrays.
        RouteReply.writeHead(
            decisionID: decisionID, firstProbabilityPPM: RequestHandler.ppm(routing.decision.firstProbability),
            count: routing.decision.entries.count, to: &writer)
        for i in 0..<routing.decision.entries.count {
            let entry = routing.decision.entries[i]
            RouteReply.writeEntry(
                gateway: table.gatewayIDs.bytes(of: entry.gateway), reason: entry.reason.rawValue,
                successRatePPM: RequestHandler.ppm(entry.successRate),
                latencyMilliseconds: RequestHandler.roundedUInt32(entry.latencyMilliseconds),
                scorePPM: RequestHandler.ppm(entry.score), to: &writer)
            log.entry(i, of: decisionID, entry)
        }
        log.finish(decisionID)
        auditDecision(subject, decisionID: decisionID, table: table)
    }

    func report(
        _ request: FrameHeader, body: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
        _ publication: RoutingService.Publication
    ) -> Int {
        withRequest(
            request, body, output, parse: ReportRequestView.init(body:), layout: ReportRequestView.layout
        ) { view in
            let table = publication.snapshot.table
            var written = 0
            guard let payment = validate(view.payment, table, request, output, written: &written) else {
                return written
            }
            guard let gateway = table.gatewayIDs.index(of: view.gateway) else {
                return writeError(.unknownGateway, for: request, close: false, into: output, "unknown gateway")
            }
            guard let outcome = PaymentOutcome(rawValue: view.outcome) else {
                return writeError(
                    .unknownOutcome, for: request, close: false, into: output,
                    "outcome must be 1 success, 2 declined, 3 gateway error or 4 timeout")
            }
            // Checked before the ledger: an attempt marked as seen must be counted.
            guard routing.ring.hasRoom(for: 1) else {
                return writeError(
                    .reportBacklog, for: request, close: false, into: output, "report backlog full, retry")
            }
            let key = ReportLedger.hash(
                merchant: payment.merchant, payment: view.payment.paymentID, attempt: view.payment.attempt)
            let result: ReportResult
            switch routing.service.ledger.record(key, second: routing.now / 1_000_000_000) {
            case .duplicate:
                result = .duplicate
            case .recorded, .unremembered:
                let version = routing.decisionVersion(of: view.decisionID, on: publication.snapshot)
                let report = OutcomeReport(
                    gateway: gateway, merchant: payment.merchant, segment: payment.segment, outcome: outcome,
                    latencyMilliseconds: view.latencyMilliseconds, decisionVersion: version)
                routing.ring.push(.report(report, tableGeneration: publication.tableGeneration))
                result = version == nil ? .recordedUnknownDecision : .recorded
            }
            return FrameEncoder.encode(into: output, header: replyHeader(for: request)) { $0.u8(result.rawValue) }!
        }
    }

    @inline(__always)
    static func ppm(_ fraction: Double) -> UInt32 { roundedUInt32(fraction * 1_000_000) }

    /// Rounds half up into 0...UInt32.max. (Adding one half and truncating:
    /// `rounded()` is a libm call, a few percent of a DECIDE.)
    @inline(__always)
    static func roundedUInt32(_ value: Double) -> UInt32 {
        UInt32(min(max(value + 0.5, 0), Double(UInt32.max)))
    }

    static func describe(_ failure: RouteFailure) -> (Status, StaticString) {
        switch failure {
        case .methodNotAllowed: (.methodNotAllowed, "the merchant's rules do not allow this method")
        case .noGatewayForPayment: (.noGatewayForPayment, "no enabled gateway takes this method, currency and amount")
        case .excludedByRules: (.excludedByRules, "merchant rules or zero weights exclude every gateway that would")
        case .allTried: (.allGatewaysTried, "every eligible gateway was already tried")
        case .allUnhealthy: (.allGatewaysUnhealthy, "every eligible gateway is open or forced open")
        }
    }
}
