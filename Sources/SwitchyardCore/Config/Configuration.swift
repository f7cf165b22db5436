import Foundation
import Yams

/// The whole configuration, validated. An immutable value: a reload builds a
/// new one and swaps it in only when it is valid as a whole.
public struct Configuration: Equatable, Sendable {
    public var server = ServerConfiguration()
    public var logging = LoggingConfiguration()
    public var routing = RoutingConfiguration()
    /// The gateways, in the order the file lists them. None by default.
    public var gateways: [GatewayConfiguration] = []

    /// The built-in defaults, which `config/switchyard.yaml` spells out.
    public init() {}

    public static let sections = ["server", "logging", "routing", "gateways"]

    /// Reads and validates a YAML file.
    public static func load(path: String) throws(ConfigurationError) -> Configuration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(file: path, message: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(yaml: text, file: path)
    }

    /// Validates YAML text; `file` names it in error messages.
    public static func parse(yaml: String, file: String) throws(ConfigurationError) -> Configuration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigurationError(problems: [syntaxProblem(error, file: file)])
        } catch {
            throw ConfigurationError(file: file, message: "not valid YAML: \(error)")
        }
        let reader = ConfigReader(root: root, file: file)
        var configuration = Configuration()
        configuration.server = ServerConfiguration(reading: reader.section("server"))
        configuration.logging = LoggingConfiguration(reading: reader.section("logging"))
        configuration.routing = RoutingConfiguration(reading: reader.section("routing"))
        var seen: [String: String] = [:]
        for gatewayReader in reader.list("gateways") {
            guard let gateway = GatewayConfiguration(reading: gatewayReader) else { continue }
            if let first = seen[gateway.id] {
                gatewayReader.report(field: "id", "duplicate gateway id '\(gateway.id)' (first in \(first))")
                continue
            }
            seen[gateway.id] = gatewayReader.path
            configuration.gateways.append(gateway)
        }
        reader.rejectUnknownKeys(known: sections)
        if !reader.collected.isEmpty { throw ConfigurationError(problems: reader.collected) }
        return configuration
    }

    private static func syntaxProblem(_ error: YamlError, file: String) -> ConfigurationError.Problem {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return .init(
                file: file, line: mark.line, column: mark.column, field: "", message: "YAML syntax: \(problem)")
        default:
            return .init(file: file, line: 0, column: 0, field: "", message: "YAML: \(error)")
        }
    }
}
