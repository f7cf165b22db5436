import Foundation
import Glibc
import Logging
import SwitchyardCore

/// One log event per line on standard error, as `text` (swift-log's own
/// format, for people at a terminal), `json` (one object per line, for log
/// shippers) or `logfmt` (`key=value` pairs). The daemon logs lifecycle
/// events and errors only, so a line built with Foundation costs nothing
/// that matters.
struct StructuredLogHandler: LogHandler {
    let format: LoggingConfiguration.Format
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", StructuredLogHandler.timestamp()), ("level", event.level.rawValue), ("msg", "\(event.message)"),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        fields += merged.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") }
        fields.append(("source", event.source))
        let line =
            format == .json
            ? StructuredLogHandler.json(fields) : fields.map(StructuredLogHandler.logfmt).joined(separator: " ")
        var text = line + "\n"
        text.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }

    static func json(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(quoted($0.0)):\(quoted($0.1))" }.joined(separator: ",") + "}"
    }

    /// A JSON string literal (RFC 8259 escapes).
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `key=value`, the value quoted when it has a space, a quote, an equals sign or nothing.
    static func logfmt(_ field: (String, String)) -> String {
        let value = field.1
        let plain = !value.isEmpty && !value.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }
        return "\(field.0)=\(plain ? value : quoted(value))"
    }

    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec, now.tv_nsec / 1_000_000)
    }
}
