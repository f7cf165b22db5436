/// What the daemon logs. Logs are lifecycle and errors only, never per request.
public struct LoggingConfiguration: Equatable, Sendable {
    public static let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// One of ``levels``.
    public var level: String = "info"

    public init() {}

    init(reading reader: ConfigReader) {
        level = reader.choice("level", default: LoggingConfiguration().level, from: Self.levels)
        reader.rejectUnknownKeys(known: ["level"])
    }
}
