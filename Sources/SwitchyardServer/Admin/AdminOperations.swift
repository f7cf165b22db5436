import Foundation
import Logging
import SwitchyardCore
import SwitchyardPosix
import SwitchyardRedis
import SwitchyardWire
import Synchronization

/// The admin operations of the protocol (docs/protocol.md section 4.7),
/// run on the admin worker's thread: the event loop has already checked the
/// token. Changes (weights, breakers, gateway states, merchant statuses) are SRE overrides:
/// with Redis they are written to the fleet's override hash, which every
/// instance applies within a sync period and which outlives restarts;
/// standalone they apply to this process until it restarts.
extension Server {
    /// Why an operation was refused: the reply's status and message.
    struct AdminFailure: Error {
        let status: Status
        let message: String
    }

    /// The reply frame to an admin request frame.
    func answerAdmin(_ frame: [UInt8]) -> [UInt8] {
        frame.withUnsafeBytes { raw in
            guard case .header(let header) = FrameHeader.parse(raw, maxBodyLength: UInt32.max) else {
                return Server.adminErrorFrame(
                    FrameHeader(opcode: .none, requestID: 0), .internalError, "admin frame lost its header")
            }
            let body = UnsafeRawBufferPointer(rebasing: raw[FrameHeader.size..<header.frameLength])
            do {
                let request = try AdminRequest(opcode: header.opcode, body: body)
                return Server.adminReplyFrame(header, json: try perform(request.operation))
            } catch let problem as AdminRequest.Problem {
                return Server.adminErrorFrame(header, problem.status, problem.message)
            } catch let failure as AdminFailure {
                return Server.adminErrorFrame(header, failure.status, failure.message)
            } catch {
                return Server.adminErrorFrame(header, .internalError, "\(error)")
            }
        }
    }

    /// The reply when the server is gone before the worker answered.
    static func adminShutdownReply(_ frame: [UInt8]) -> [UInt8] {
        let header =
            frame.withUnsafeBytes { raw -> FrameHeader? in
                guard case .header(let header) = FrameHeader.parse(raw, maxBodyLength: UInt32.max) else { return nil }
                return header
            } ?? FrameHeader(opcode: .none, requestID: 0)
        return adminErrorFrame(header, .shuttingDown, "server shutting down")
    }

    private func perform(_ operation: AdminRequest.Operation) throws -> [UInt8] {
        switch operation {
        case .stats: return try Server.json(stats())
        case .health: return try Server.json(healthTable())
        case .setWeight(let gateway, let thousandths):
            try requireGateway(gateway)
            guard thousandths <= 1_000_000 else {
                throw AdminFailure(
                    status: .invalidArgument,
                    message: "weight \(Double(thousandths) / 1000) is out of range: 0 to 1000 (0 takes the gateway out)"
                )
            }
            return try Server.json(change([("weight:\(gateway)", Server.decimal(thousandths))]))
        case .breaker(let gateway, let method, let action):
            try requireGateway(gateway)
            if !method.isEmpty, routing.current.snapshot.table.methods.index(of: method) == nil {
                throw AdminFailure(status: .unknownMethod, message: "no gateway serves method '\(method)'")
            }
            let field = method.isEmpty ? "breaker:\(gateway)" : "breaker:\(gateway):\(method)"
            switch action {
            case .forceOpen: return try Server.json(change([(field, "forced_open")]))
            case .forceClosed: return try Server.json(change([(field, "forced_closed")]))
            case .reset:
                // Lifting every order on the breaker (for all methods: the
                // per-method ones too), then starting it afresh.
                let orders = state.withLock { $0.overrides.breakers.keys }
                let lifted = orders.filter {
                    method.isEmpty ? ($0 == gateway || $0.hasPrefix(gateway + ":")) : $0 == "\(gateway):\(method)"
                }
                let result = try change(lifted.map { ("breaker:\($0)", nil) }, describing: "\(field) reset")
                routing.force(.closed, gateway: gateway, method: method.isEmpty ? nil : method)
                return try Server.json(result)
            }
        case .gatewayState(let gateway, let state):
            try requireGateway(gateway)
            return try Server.json(change([("gateway:\(gateway)", state == .enabled ? "enabled" : "disabled")]))
        case .reload:
            switch reloadFromSource(cause: "admin request") {
            case .success(let reload): return try Server.json(reload)
            case .failure(let failure): throw AdminFailure(status: .changeRefused, message: failure.description)
            }
        case .merchant(let id): return try Server.json(merchant(id))
        case .merchantStatus(let id, let status):
            guard state.withLock({ $0.base.merchants.contains { $0.id == id } }) else {
                throw AdminFailure(status: .unknownMerchant, message: "unknown merchant '\(id)'")
            }
            let value: String? =
                switch status {
                case .configured: nil
                case .active: "active"
                case .suspended: "suspended"
                case .disabled: "disabled"
                }
            return try Server.json(change([("merchant:\(id)", value)]))
        case .explain(let id): return try Server.json(explain(id))
        }
    }

    // MARK: - Reading

    private func stats() -> AdminStats {
        let counters = routing.counters
        let (configuration, overrides) = state.withLock { ($0.base, $0.overrides) }
        let outcomes = PaymentOutcome.allCases.map { ($0.name, counters.reports[Int($0.rawValue)]) }
        return AdminStats(
            instance: state.withLock { $0.settings.instanceID }, version: ServerSettings.serverVersion,
            uptimeSeconds: Double(MonotonicClock.nanoseconds() &- startedAt) / 1e9, loops: loopCount,
            connections: connectionCount, redis: redisStatus, gateways: configuration.gateways.count,
            merchants: configuration.merchants.count, reports: Dictionary(uniqueKeysWithValues: outcomes),
            unknownDecisions: counters.unknownDecisions, breakerTransitions: counters.breakerTransitions,
            probesGranted: counters.probesGranted, fleetOutcomes: counters.fleetOutcomes,
            fleetDropped: routing.fleetDropped, overrides: overrides.count, rules: rules())
    }

    /// The rules in force, merchants' first, with their labelled counts.
    private func rules() -> [AdminStats.Rule] {
        let table = routing.current.snapshot.table
        let totals = routing.labelledTotals().rules
        let order = Array(table.rules.globalCount..<table.rules.count) + Array(0..<table.rules.globalCount)
        return order.map { index in
            let labels = [table.rules.name(of: index), TableCounters.scope(of: index, in: table)]
            func total(_ count: TableCounters.RuleCount) -> UInt64 { totals[labels + [count.name]] ?? 0 }
            return AdminStats.Rule(
                name: labels[0], scope: labels[1], mode: table.rules.mode(of: index).rawValue,
                shadow: table.rules.isShadow(index), decisions: total(.decisions),
                shadowMatches: total(.shadowMatches), shadowDiffers: total(.shadowDiffers),
                shadowRefusals: total(.shadowRefusals))
        }
    }

    private func healthTable() -> AdminHealth {
        let (rows, breakers, table) = routing.health()
        return AdminHealth(
            instance: state.withLock { $0.settings.instanceID },
            rows: rows.map { row in
                let breaker = breakers[table.breakerIndex(gateway: row.gateway, method: Int(row.segment.method))]
                let gateway = table.gateways[row.gateway]
                return AdminHealth.Row(
                    gateway: gateway.id,
                    segment: FleetCounter.segmentLabel(row.segment, in: table),
                    successRate: row.posterior.mean, uncertainty: row.posterior.variance.squareRoot(),
                    evidence: row.posterior.alpha + row.posterior.beta, reportsLastMinute: row.reportsLastMinute,
                    shareLastMinute: row.segmentReportsLastMinute == 0
                        ? 0 : Double(row.reportsLastMinute) / Double(row.segmentReportsLastMinute),
                    breaker: breaker.state.rawValue, breakerGeneration: breaker.generation,
                    probesInFlight: breaker.probesInFlight, weight: gateway.weight, enabled: gateway.enabled)
            })
    }

    private func merchant(_ id: String) throws -> AdminMerchant {
        let (base, overrides) = state.withLock { ($0.base, $0.overrides) }
        guard let configured = base.merchants.first(where: { $0.id == id }) else {
            throw AdminFailure(status: .unknownMerchant, message: "unknown merchant '\(id)'")
        }
        let status = overrides.merchantStatus[id] ?? configured.status
        // Keys and limits are read from the running table: the kept configuration has none.
        let credentials = routing.current.authorization.credentials(of: id) ?? (0, [])
        return AdminMerchant(
            merchant: id, status: status.rawValue,
            configuredStatus: status == configured.status ? nil : configured.status.rawValue, tier: configured.tier,
            keys: credentials.keys,
            limits: credentials.limits.map { limit, fleet in
                AdminMerchant.Limit(
                    rate: limit.rate, periodMs: Int(limit.periodNanoseconds / 1_000_000), burst: limit.burst,
                    scope: fleet == nil ? LimitSharing.Scope.instance.rawValue : LimitSharing.Scope.fleet.rawValue,
                    whenRedisDown: (fleet?.whenRedisDown ?? LimitSharing().whenRedisDown).name)
            },
            allowedMethods: configured.allowedMethods, allowedGateways: configured.allowedGateways)
    }

    /// A remembered decision, with the rules that left gateways out and how its first place was drawn.
    private func explain(_ id: UInt64) throws -> AdminExplain {
        let hex = "0x" + String(id, radix: 16)
        guard UInt16(truncatingIfNeeded: id >> 48) == routing.instanceTag else {
            throw AdminFailure(
                status: .unknownDecision,
                message: "decision \(hex) was not made by this instance: ask the one that made it")
        }
        let loop = Int((id >> 18) & 0x3F)
        guard loop < handles.count, let record = handles[loop].decisions.lookup(id) else {
            throw AdminFailure(
                status: .unknownDecision,
                message: "decision \(hex) is no longer remembered (each loop keeps its last \(DecisionLog.capacity))")
        }
        let publication = routing.current
        let table = publication.snapshot.table
        guard record.tableGeneration == publication.tableGeneration else {
            throw AdminFailure(
                status: .unknownDecision,
                message: "decision \(hex) was made before the last reload: its gateways and rules are gone")
        }
        let names = table.gateways.map(\.id)
        // Recorded as 32-bit floats: six decimals is what they hold.
        func rounded(_ value: Double) -> Double { (value * 1e6).rounded() / 1e6 }
        let entries = record.entries.map {
            AdminExplain.Entry(
                gateway: names[$0.gateway], reason: $0.reason.name, successRate: rounded($0.successRate),
                score: rounded($0.score))
        }
        var listed: UInt64 = 0
        for entry in record.entries { listed |= 1 << UInt64(entry.gateway) }
        // Entries past the kept ones were listed too: only rules and breakers exclude.
        let excluded = table.exclusions(
            merchant: record.merchant, method: record.method, currency: record.currency, amount: record.amount,
            tried: record.tried, listed: listed
        ).filter { record.listLength <= DecisionLog.maxEntries || $0.reason != .breaker }
        let first = entries.first
        let probability = String(format: "%.3f", record.firstProbability)
        let draw =
            switch record.entries.first?.reason {
            case .bestScore?:
                "\(first!.gateway) has the best score and went first, as it does with probability \(probability); "
                    + "exploration puts another first otherwise"
            case .exploration?:
                "exploration: \(first!.gateway) was drawn to go first with probability \(probability), "
                    + "its score being close enough to the best that the evidence does not rule it out"
            case .probe?: "\(first!.gateway)'s breaker is half-open: this payment was its recovery probe"
            case .pinned?: "the merchant's pinned priority puts \(first!.gateway) first; nothing is explored"
            case .rule?:
                "routing rule '\(record.rule.map(table.rules.name) ?? "?")' put \(first!.gateway) first "
                    + "(its priority order, or its first tier's best score)"
            case .split?:
                "routing rule '\(record.rule.map(table.rules.name) ?? "?")' split volume: this payment's arm is "
                    + "\(first!.gateway), its share \(probability)"
            case .halfOpen?, .leastBad?: "no healthy gateway was left: the least bad went first"
            case .failover?, nil: "ranked by score"
            }
        return AdminExplain(
            decisionId: hex, instance: state.withLock { $0.settings.instanceID }, loop: loop,
            ageMs: rounded(Double(MonotonicClock.nanoseconds() &- record.at) / 1e6),
            merchant: table.merchants.names[record.merchant],
            method: table.methods.names[record.method], currency: record.currency.map { table.currencies.names[$0] },
            amount: record.amount,
            segment: FleetCounter.segmentLabel(record.segment, in: table),
            tried: (0..<table.gatewayCount).filter { record.tried & 1 << UInt64($0) != 0 }.map { names[$0] },
            snapshotVersion: record.snapshotVersion, draw: draw, firstProbability: rounded(record.firstProbability),
            entries: entries, listLength: record.listLength,
            excluded: excluded.map { AdminExplain.Exclusion(gateway: names[$0.gateway], reason: $0.reason.rawValue) },
            rule: record.rule.map {
                AdminExplain.MatchedRule(
                    name: table.rules.name(of: $0), scope: table.rules.isMerchantRule($0) ? "merchant" : "global",
                    index: table.rules.place(of: $0))
            },
            rulesPassedOver: table.rules.isEmpty ? nil : passedOver(record, in: table))
    }

    /// The rules a decision's payment was checked against before the one it followed.
    private func passedOver(_ record: DecisionLog.Record, in table: RoutingTable) -> [AdminExplain.PassedOver] {
        var query = RouteQuery(
            merchant: record.merchant, method: record.method, currency: record.currency, amount: record.amount,
            segment: record.segment, tried: record.tried)
        query.attempt = record.attempt
        query.ruleNetwork = record.ruleNetwork
        query.ruleLabels = record.ruleLabels
        return table.rules.passedOver(query, matched: record.rule).map {
            AdminExplain.PassedOver(name: $0.name, failed: $0.reason)
        }
    }

    var redisStatus: String {
        switch fleetConnected {
        case nil: "standalone"
        case true?: "connected"
        case false?: "degraded"
        }
    }

    // MARK: - Changing

    private func requireGateway(_ gateway: String) throws {
        guard state.withLock({ $0.base.gateways.contains { $0.id == gateway } }) else {
            throw AdminFailure(status: .unknownGateway, message: "unknown gateway '\(gateway)'")
        }
    }

    /// Sets (or, with nil, lifts) override fields: in Redis first when the
    /// fleet shares them (so that a change this instance cannot hand to the
    /// fleet is refused, not applied here alone), then here at once; the
    /// other instances follow within a sync period.
    private func change(_ fields: [(String, String?)], describing description: String? = nil) throws -> AdminChange {
        let text = description ?? fields.map { "\($0.0) = \($0.1 ?? "(lifted)")" }.joined(separator: ", ")
        if redisSettings.isEnabled && !fields.isEmpty { try writeToFleet(fields) }
        var updated = state.withLock { $0.overrides }
        for (field, value) in fields {
            if let problem = updated.set(field, to: value) {
                throw AdminFailure(status: .invalidArgument, message: problem)
            }
        }
        apply(updated, cause: "admin request")
        let scope = redisSettings.isEnabled ? "fleet" : "instance"
        logger.notice("admin change", metadata: ["change": "\(text)", "scope": "\(scope)", "cause": "admin request"])
        return AdminChange(change: text, scope: scope)
    }

    private func writeToFleet(_ fields: [(String, String?)]) throws {
        let (host, port) = FleetSync.split(redisSettings.address ?? "")
        let connection = RedisConnection(host: host, port: port, timeoutMilliseconds: redisSettings.timeoutMilliseconds)
        defer { connection.close() }
        let key = "{\(redisSettings.fleet)}:overrides"
        let commands = fields.map { field, value in value.map { ["HSET", key, field, $0] } ?? ["HDEL", key, field] }
        let address = redisSettings.address ?? ""
        do { try connection.connect() } catch {
            throw AdminFailure(
                status: .changeRefused, message: "Redis at \(address) is unreachable (\(error)); nothing changed")
        }
        let replies: [RedisReply]
        do { replies = try connection.pipeline(commands) } catch {
            // Sent but not confirmed: a stalled Redis runs what it received
            // once it resumes, so the change may still reach the fleet.
            throw AdminFailure(
                status: .changeUnconfirmed,
                message: "Redis at \(address) did not confirm the change (\(error)); it may still apply to the "
                    + "fleet: read the health table, then repeat or revert")
        }
        for case .error(let message) in replies {
            throw AdminFailure(
                status: .changeRefused, message: "Redis at \(address) refused the change (\(message)); nothing changed")
        }
    }

    // MARK: - Encoding

    static func decimal(_ thousandths: UInt32) -> String {
        let whole = thousandths / 1000
        let fraction = thousandths % 1000
        guard fraction > 0 else { return "\(whole)" }
        var digits = String(fraction + 1000).dropFirst()
        while digits.hasSuffix("0") { digits = digits.dropLast() }
        return "\(whole).\(digits)"
    }

    static func json(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(value))
    }

    static func adminReplyFrame(_ request: FrameHeader, json: [UInt8]) -> [UInt8] {
        frame(
            FrameHeader(opcode: request.opcode, flags: .reply, requestID: request.requestID), bodyCapacity: json.count
        ) { writer in json.withUnsafeBytes { writer.raw($0) } }
    }

    static func adminErrorFrame(_ request: FrameHeader, _ status: Status, _ message: String) -> [UInt8] {
        let text = String(message.utf8.prefix(RequestHandler.maxFixedReplyBytes - 64)) ?? "error"
        return frame(
            FrameHeader(opcode: request.opcode, flags: .reply, status: status, requestID: request.requestID),
            bodyCapacity: text.utf8.count + 2
        ) { $0.str16(text) }
    }

    private static func frame(_ header: FrameHeader, bodyCapacity: Int, _ body: (inout BodyWriter) -> Void)
        -> [UInt8]
    {
        var bytes = [UInt8](repeating: 0, count: FrameHeader.size + bodyCapacity)
        let count = bytes.withUnsafeMutableBytes { FrameEncoder.encode(into: $0, header: header, body: body) }
        return Array(bytes[..<(count ?? 0)])
    }
}
