import SwitchyardCore

/// One audit record as a loop hands it to the writer: its fields in binary,
/// the request's strings copied, the list offered as gateway indices and
/// figures. The writer thread turns it into a JSON line (``AuditRecord``),
/// so the loop spends a few hundred instructions on a record, not the
/// thousands the JSON takes.
///
/// A decision's record holds its routing table, retained, for the names of
/// its gateways and rule: the writer releases it (and the loop, when the
/// ring has no room).
enum AuditEvent {
    enum Kind: UInt8 {
        case authorization = 0
        case decision = 1
        case failure = 2
    }

    /// `authorize`, `route` or `decide`: the request a record is about.
    enum Request: UInt8 {
        case authorize = 0
        case route = 1
        case decide = 2

        var name: StaticString {
            switch self {
            case .authorize: "authorize"
            case .route: "route"
            case .decide: "decide"
            }
        }
    }

    // The header's fields, by byte offset.
    static let lengthAt = 0  // u32, the whole record
    static let kindAt = 4  // u8
    static let requestAt = 5  // u8
    static let entryCountAt = 6  // u8
    static let attemptAt = 7  // u8, 0: no payment
    static let reasonAt = 8  // u16
    static let stringLengthsAt = 10  // u8 × 5: merchant, operation, payment id, trace id, parent id
    static let timeAt = 16  // i64, Unix nanoseconds
    static let decisionAt = 24  // u64
    static let propensityAt = 32  // f64
    static let ruleAt = 40  // i32, -1: none
    static let tableAt = 48  // the routing table, retained (decisions only)
    static let headerBytes = 56
    /// Per entry: u16 gateway, u16 reason, f64 score, f64 success rate.
    static let entryBytes = 20

    /// The longest record: 64-byte strings, 16 and 32 of trace, 64 entries.
    static let maxBytes = headerBytes + 3 * 64 + 48 + 64 * entryBytes

    /// The record's fixed part and strings at the start of `buffer`; the
    /// caller appends the entries. Returns the offset after the strings.
    static func begin(
        _ buffer: UnsafeMutableRawPointer, kind: Kind, request: Request, reason: UInt16, attempt: UInt8,
        strings: (
            UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer,
            UnsafeRawBufferPointer
        ), unixNanoseconds: Int64
    ) -> Int {
        buffer.storeBytes(of: kind.rawValue, toByteOffset: kindAt, as: UInt8.self)
        buffer.storeBytes(of: request.rawValue, toByteOffset: requestAt, as: UInt8.self)
        buffer.storeBytes(of: 0, toByteOffset: entryCountAt, as: UInt8.self)
        buffer.storeBytes(of: attempt, toByteOffset: attemptAt, as: UInt8.self)
        buffer.storeBytes(of: reason, toByteOffset: reasonAt, as: UInt16.self)
        buffer.storeBytes(of: unixNanoseconds, toByteOffset: timeAt, as: Int64.self)
        buffer.storeBytes(of: 0, toByteOffset: tableAt, as: UInt.self)
        var offset = headerBytes
        func put(_ index: Int, _ text: UnsafeRawBufferPointer) {
            let count = min(text.count, 64)
            buffer.storeBytes(of: UInt8(count), toByteOffset: stringLengthsAt + index, as: UInt8.self)
            if count > 0 { (buffer + offset).copyMemory(from: text.baseAddress!, byteCount: count) }
            offset += count
        }
        put(0, strings.0)
        put(1, strings.1)
        put(2, strings.2)
        put(3, strings.3)
        put(4, strings.4)
        return offset
    }

    /// Sets the record's length once it is complete; returns it.
    static func finish(_ buffer: UnsafeMutableRawPointer, length: Int) -> UnsafeRawBufferPointer {
        buffer.storeBytes(of: UInt32(length), toByteOffset: lengthAt, as: UInt32.self)
        return UnsafeRawBufferPointer(start: buffer, count: length)
    }

    /// The routing table a decision's record retains (nil for the others).
    static func table(of record: UnsafeRawPointer) -> Unmanaged<RoutingTable>? {
        let bits = record.loadUnaligned(fromByteOffset: tableAt, as: UInt.self)
        guard bits != 0, let pointer = UnsafeRawPointer(bitPattern: bits) else { return nil }
        return Unmanaged.fromOpaque(pointer)
    }

    /// Writes `record` as a JSON line into `line`; nil when it does not fit.
    /// Releases the table the record holds.
    static func format(_ record: UnsafeRawPointer, into line: UnsafeMutableRawBufferPointer) -> UnsafeRawBufferPointer?
    {
        func u8(_ at: Int) -> UInt8 { record.load(fromByteOffset: at, as: UInt8.self) }
        let kind = Kind(rawValue: u8(kindAt)) ?? .authorization
        let request = Request(rawValue: u8(requestAt)) ?? .authorize
        let reason = record.loadUnaligned(fromByteOffset: reasonAt, as: UInt16.self)
        var output = AuditRecord(
            into: line, event: request.name,
            unixNanoseconds: record.loadUnaligned(fromByteOffset: timeAt, as: Int64.self))
        /// String `index` (0 merchant, 1 operation, 2 payment id, 3 trace id, 4 parent id).
        func string(_ index: Int) -> UnsafeRawBufferPointer {
            var start = headerBytes
            for earlier in 0..<index { start += Int(u8(stringLengthsAt + earlier)) }
            return UnsafeRawBufferPointer(start: record + start, count: Int(u8(stringLengthsAt + index)))
        }
        // The entries follow the strings.
        let offset = headerBytes + (0..<5).reduce(0) { $0 + Int(u8(stringLengthsAt + $1)) }
        output.text("merchant", bytes: string(0))
        output.text("operation", bytes: string(1))
        if u8(attemptAt) > 0 {
            output.text("payment_id", bytes: string(2))
            output.number("attempt", UInt64(u8(attemptAt)))
        }
        let table = self.table(of: record)
        defer { table?.release() }
        switch kind {
        case .authorization:
            let verdict = AuthorizationReason(rawValue: reason)
            output.text("result", verdict == .allowed ? "allowed" : "denied")
            output.text("reason", verdict?.snakeCase ?? "unknown")
        case .failure:
            output.text("result", "failed")
            output.text("reason", RouteFailure(code: reason)?.snakeCase ?? "unknown")
        case .decision:
            let entries = Int(u8(entryCountAt))
            let names = table?.takeUnretainedValue()
            output.text("result", "routed")
            let first = entries > 0 ? record.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self) : 0
            output.text("reason", RouteReason(rawValue: first)?.snakeCase ?? "none")
            output.numberText("decision_id", record.loadUnaligned(fromByteOffset: decisionAt, as: UInt64.self))
            let rule = Int(record.loadUnaligned(fromByteOffset: ruleAt, as: Int32.self))
            if rule >= 0, var name = names?.rules.name(of: rule) {
                name.withUTF8 { output.text("rule", bytes: UnsafeRawBufferPointer($0)) }
            } else {
                output.null("rule")
            }
            output.decimal("propensity", record.loadUnaligned(fromByteOffset: propensityAt, as: Double.self))
            output.beginArray("gateways")
            for index in 0..<entries {
                let at = offset + index * entryBytes
                let gateway = Int(record.loadUnaligned(fromByteOffset: at, as: UInt16.self))
                let entryReason = record.loadUnaligned(fromByteOffset: at + 2, as: UInt16.self)
                output.beginElement()
                if let names, gateway < names.gatewayCount {
                    output.text("gateway", bytes: names.gatewayIDs.bytes(of: gateway))
                } else {
                    output.null("gateway")
                }
                output.text("reason", RouteReason(rawValue: entryReason)?.snakeCase ?? "unknown")
                output.decimal("score", record.loadUnaligned(fromByteOffset: at + 4, as: Double.self))
                output.decimal("success_rate", record.loadUnaligned(fromByteOffset: at + 12, as: Double.self))
                output.endElement()
            }
            output.endArray()
        }
        output.text("trace_id", bytes: string(3))
        output.text("parent_id", bytes: string(4))
        return output.finish()
    }
}
