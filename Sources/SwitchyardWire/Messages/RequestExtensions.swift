/// The optional fields that may end an AUTHORIZE, ROUTE or DECIDE body,
/// each `u8 tag, str16 content`: a server skips a tag it does not know, so
/// clients can send new ones. An operation reads the extensions it uses
/// and ignores the others.
public struct RequestExtensions {
    public enum Tag {
        /// ROUTE and DECIDE: labels for routing rules.
        public static let labels: UInt8 = 1
        /// AUTHORIZE and DECIDE: the operation the request is for, checked against the key's scopes.
        public static let operation: UInt8 = 2
        /// AUTHORIZE, ROUTE and DECIDE: the caller's W3C `traceparent`, which
        /// the audit log records.
        public static let traceparent: UInt8 = 3
    }

    public static let maxLabels = 16
    public static let maxLabelKey = 32
    public static let maxLabelValue = 64
    public static let maxOperation = 64

    /// The labels' pairs, still length-prefixed (empty: none): walk them with ``forEachLabel(_:)``.
    let labelBytes: UnsafeRawBufferPointer
    public let labelCount: Int
    /// The operation's name (empty: none given).
    public let operation: UnsafeRawBufferPointer
    /// The `traceparent` as sent (empty: none), checked for its form: see ``traceID``.
    public let traceparent: UnsafeRawBufferPointer

    static var none: RequestExtensions {
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        return RequestExtensions(labelBytes: empty, labelCount: 0, operation: empty, traceparent: empty)
    }

    private init(
        labelBytes: UnsafeRawBufferPointer, labelCount: Int, operation: UnsafeRawBufferPointer,
        traceparent: UnsafeRawBufferPointer
    ) {
        self.labelBytes = labelBytes
        self.labelCount = labelCount
        self.operation = operation
        self.traceparent = traceparent
    }

    /// The trace id of the `traceparent` (32 hex digits; empty: none sent).
    public var traceID: UnsafeRawBufferPointer {
        traceparent.isEmpty ? traceparent : UnsafeRawBufferPointer(rebasing: traceparent[3..<35])
    }

    /// The caller's span within the trace (16 hex digits; empty: none sent).
    public var parentID: UnsafeRawBufferPointer {
        traceparent.isEmpty ? traceparent : UnsafeRawBufferPointer(rebasing: traceparent[36..<52])
    }

    /// Reads the extensions that fill `bytes`; nil when they do not fill
    /// it exactly, or a known one is malformed or given twice.
    init?(_ bytes: UnsafeRawBufferPointer) {
        var reader = BodyReader(bytes)
        var labels: UnsafeRawBufferPointer?
        var count = 0
        var operation: UnsafeRawBufferPointer?
        var traceparent: UnsafeRawBufferPointer?
        while reader.remaining > 0 {
            let tag = reader.u8()
            let content = reader.str16()
            guard !reader.failed else { return nil }
            switch tag {
            case Tag.labels:
                guard labels == nil, let read = Self.labelCount(content) else { return nil }
                labels = UnsafeRawBufferPointer(rebasing: content[1...])
                count = read
            case Tag.operation:
                guard operation == nil, (1...Self.maxOperation).contains(content.count) else { return nil }
                operation = content
            case Tag.traceparent:
                guard traceparent == nil, Self.isTraceparent(content) else { return nil }
                traceparent = content
            default:
                continue
            }
        }
        let none = RequestExtensions.none
        self.init(
            labelBytes: labels ?? none.labelBytes, labelCount: count, operation: operation ?? none.operation,
            traceparent: traceparent ?? none.traceparent)
    }

    /// W3C Trace Context's `traceparent`: `version-traceid-parentid-flags`
    /// in lowercase hex (2, 32, 16 and 2 digits). Version `ff` is invalid,
    /// an all-zero trace or parent id too; a later version may append
    /// fields after a `-`, version 00 none.
    static func isTraceparent(_ text: UnsafeRawBufferPointer) -> Bool {
        guard text.count == 55 || (text.count > 55 && text[55] == 0x2D && !(text[0] == 0x30 && text[1] == 0x30)),
            text[2] == 0x2D, text[35] == 0x2D, text[52] == 0x2D
        else { return false }
        func hex(_ range: Range<Int>) -> Bool {
            range.allSatisfy { (0x30...0x39).contains(text[$0]) || (0x61...0x66).contains(text[$0]) }
        }
        func zero(_ range: Range<Int>) -> Bool { range.allSatisfy { text[$0] == 0x30 } }
        return hex(0..<2) && hex(3..<35) && hex(36..<52) && hex(53..<55) && !(text[0] == 0x66 && text[1] == 0x66)
            && !zero(3..<35) && !zero(36..<52)
    }

    /// The number of pairs a labels extension holds, when it is well formed:
    /// within the limits, filling its content, no key twice.
    private static func labelCount(_ content: UnsafeRawBufferPointer) -> Int? {
        var reader = BodyReader(content)
        let count = Int(reader.u8())
        guard count <= maxLabels else { return nil }
        for i in 0..<count {
            let key = reader.str8()
            let value = reader.str8()
            guard !reader.failed, (1...maxLabelKey).contains(key.count), value.count <= maxLabelValue else {
                return nil
            }
            var earlier = BodyReader(UnsafeRawBufferPointer(rebasing: content[1...]))
            for _ in 0..<i {
                let seen = earlier.str8()
                _ = earlier.str8()
                if sameBytes(seen, key) { return nil }
            }
        }
        return reader.isComplete ? count : nil
    }

    private static func sameBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }

    /// Calls `body` with each label's key and value, in the request's order.
    public func forEachLabel(_ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void) {
        var walker = BodyReader(labelBytes)
        for _ in 0..<labelCount { body(walker.str8(), walker.str8()) }
    }

    /// Writes the extensions a client sends: the labels (in key order, so the
    /// same labels always make the same bytes), the operation and the
    /// traceparent, each only when given.
    public static func write(
        labels: [String: String], operation: String?, traceparent: String? = nil, to writer: inout BodyWriter
    ) {
        if !labels.isEmpty {
            let pairs = labels.sorted { $0.key < $1.key }
            writer.u8(Tag.labels)
            writer.u16(
                UInt16(truncatingIfNeeded: pairs.reduce(1) { $0 + 2 + $1.key.utf8.count + $1.value.utf8.count }))
            writer.u8(UInt8(truncatingIfNeeded: pairs.count))
            for (key, value) in pairs {
                writer.str8(key)
                writer.str8(value)
            }
        }
        if let operation {
            writer.u8(Tag.operation)
            writer.str16(operation)
        }
        if let traceparent {
            writer.u8(Tag.traceparent)
            writer.str16(traceparent)
        }
    }
}
