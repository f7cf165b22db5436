/// What the daemon logs, and how. Logs are lifecycle and errors only, never per request.
public struct LoggingConfiguration: Equatable, Sendable {
    public static let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// How each line is written.
    public enum Format: String, Equatable, Sendable, CaseIterable {
        /// swift-log's line format, for people at a terminal.
        case text
        /// One JSON object per line.
        case json
        /// `key=value` pairs.
        case logfmt
    }

    /// One of ``levels``.
    public var level: String = "info"
    /// Restart to change.
    public var format = Format.text

    public init() {}

    init(reading reader: ConfigReader) {
        level = reader.choice("level", default: LoggingConfiguration().level, from: Self.levels)
        let formatText = reader.choice("format", default: format.rawValue, from: Format.allCases.map(\.rawValue))
        format = Format(rawValue: formatText) ?? .text
        reader.rejectUnknownKeys(known: ["level", "format"])
    }
}
