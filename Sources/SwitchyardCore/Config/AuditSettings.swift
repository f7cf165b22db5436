/// `audit`: the audit log of decisions, JSON lines appended to a file by a
/// background thread. Off unless `path` is given. Restart to change.
public struct AuditSettings: Equatable, Sendable {
    /// What is written.
    public enum Event: String, Equatable, Sendable, CaseIterable {
        /// Every AUTHORIZE and DECIDE refused (reason other than allowed).
        case denials
        /// Every AUTHORIZE allowed (a DECIDE allowed is its decision's record).
        case allows
        /// Every ROUTE and DECIDE decision, and every routing failure.
        case decisions
    }

    /// The file (empty: no audit log).
    public var path = ""
    public var events: Set<Event> = [.denials, .decisions]
    /// The file is rotated once it holds this much: `path` becomes
    /// `path.1`, `path.1` becomes `path.2`, and so on.
    public var maxFileBytes = 64 << 20
    /// Rotated files kept beside the current one (the oldest beyond are deleted).
    public var retainFiles = 10
    /// Each loop's buffer of records waiting for the writer; a record that
    /// finds no room is dropped and counted, the request never waits.
    public var bufferBytes = 1 << 20
    /// How often the writer empties the buffers.
    public var flushIntervalMilliseconds = 50

    public var isEnabled: Bool { !path.isEmpty }

    public init() {}

    static let fields = ["path", "events", "max_file_bytes", "retain_files", "buffer_bytes", "flush_interval_ms"]

    init(reading reader: ConfigReader) {
        path = reader.string("path", default: path)
        let names = reader.strings("events", default: events.map(\.rawValue)) { name in
            Event(rawValue: name) == nil
                ? "'\(name)' is not an audit event (\(Event.allCases.map(\.rawValue).joined(separator: ", ")))" : nil
        }
        events = Set(names.compactMap(Event.init(rawValue:)))
        maxFileBytes = reader.integer("max_file_bytes", default: maxFileBytes, in: 4_096...(1 << 40), unit: "bytes")
        retainFiles = reader.integer("retain_files", default: retainFiles, in: 0...1_000, unit: "files")
        bufferBytes = reader.integer("buffer_bytes", default: bufferBytes, in: 4_096...(1 << 30), unit: "bytes")
        flushIntervalMilliseconds = reader.integer(
            "flush_interval_ms", default: flushIntervalMilliseconds, in: 1...10_000, unit: "milliseconds")
        reader.rejectUnknownKeys(known: Self.fields)
    }
}
