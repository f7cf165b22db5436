import Foundation
import Yams

/// The whole configuration, validated. An immutable value: a reload builds a
/// new one and swaps it in only when it is valid as a whole.
public struct Configuration: Equatable, Sendable {
    public var server = ServerConfiguration()
    public var logging = LoggingConfiguration()
    public var routing = RoutingConfiguration()
    public var authorization = AuthorizationConfiguration()
    public var redis = RedisConfiguration()
    public var audit = AuditSettings()
    /// The gateways, in the order the file lists them. None by default.
    public var gateways: [GatewayConfiguration] = []
    /// The merchants ROUTE and REPORT accept, with their routing rules. None by default.
    public var merchants: [MerchantConfiguration] = []
    /// True in the copy a running server keeps (``credentialsMovedToTables()``):
    /// the merchants' keys and limits are then empty here, and an
    /// ``AuthorizationTable`` built from this copy takes them from the table
    /// it carries over from.
    public private(set) var merchantCredentialsInTables = false

    /// The built-in defaults, which `config/switchyard.yaml` spells out.
    public init() {}

    /// This configuration without its merchants' keys and limits, which the
    /// compiled authorization table already holds: a server keeps this copy
    /// to re-apply SRE overrides, and a million merchants' keys and limits
    /// would otherwise be held twice (about 350 bytes a merchant).
    public func credentialsMovedToTables() -> Configuration {
        var copy = self
        for index in copy.merchants.indices {
            copy.merchants[index].keys = []
            copy.merchants[index].limits = []
        }
        copy.merchantCredentialsInTables = true
        return copy
    }

    public static let sections = [
        "server", "logging", "routing", "authorization", "redis", "audit", "gateways", "merchants", "merchants_file",
    ]

    /// Reads and validates a YAML file.
    public static func load(path: String) throws(ConfigurationError) -> Configuration {
        try parse(yaml: text(of: path), file: path)
    }

    /// A file's text, or the error that names it.
    package static func text(of path: String) throws(ConfigurationError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(file: path, message: "cannot read the file: \(error.localizedDescription)")
        }
    }

    /// Validates YAML text; `file` names it in error messages.
    public static func parse(yaml: String, file: String) throws(ConfigurationError) -> Configuration {
        let reader = ConfigReader(root: try compose(yaml, file: file), file: file)
        var configuration = Configuration()
        configuration.server = ServerConfiguration(reading: reader.section("server"))
        configuration.logging = LoggingConfiguration(reading: reader.section("logging"))
        configuration.authorization = AuthorizationConfiguration(
            reading: reader.section("authorization"), directory: directory(of: file))
        configuration.redis = RedisConfiguration(reading: reader.section("redis"))
        configuration.audit = AuditSettings(reading: reader.section("audit"))
        configuration.gateways = uniqueEntries(reader.list("gateways"), kind: "gateway", id: \.id) {
            GatewayConfiguration(reading: $0)
        }
        if configuration.gateways.count > Configuration.maxGateways {
            reader.report(field: "gateways", "at most \(Configuration.maxGateways) gateways")
        }
        if Set(configuration.gateways.flatMap(\.methods)).count > 64 {
            reader.report(field: "gateways", "at most 64 distinct methods across all gateways")
        }
        if Set(configuration.gateways.flatMap(\.currencies)).count > 254 {
            reader.report(field: "gateways", "at most 254 distinct currencies across all gateways")
        }
        configuration.routing = RoutingConfiguration(
            reading: reader.section("routing"), gateways: configuration.gateways)
        let methods = Dictionary(configuration.gateways.map { ($0.id, $0.methods) }, uniquingKeysWith: { a, _ in a })
        var merchantReaders = reader.list("merchants")
        let merchantsFile = reader.string("merchants_file", default: "")
        if !merchantsFile.isEmpty {
            let path = merchantsFile.hasPrefix("/") ? merchantsFile : directory(of: file) + merchantsFile
            do {
                let text = try String(contentsOfFile: path, encoding: .utf8)
                let other = ConfigReader(root: try compose(text, file: path), file: path, sharingProblemsWith: reader)
                merchantReaders += other.list("merchants")
                other.rejectUnknownKeys(known: ["merchants"])
            } catch let error as ConfigurationError {
                throw ConfigurationError(problems: reader.collected + error.problems)
            } catch {
                reader.report(field: "merchants_file", "cannot read \(path): \(error.localizedDescription)")
            }
        }
        configuration.merchants = uniqueEntries(merchantReaders, kind: "merchant", id: \.id) {
            MerchantConfiguration(
                reading: $0, gateways: methods, configured: configuration.gateways, redis: configuration.redis)
        }
        let scopes = Set(configuration.merchants.flatMap { $0.keys.flatMap { $0.scopes ?? [] } })
        if scopes.count > MerchantConfiguration.maxScopes {
            reader.report(
                field: "merchants",
                "the keys name \(scopes.count) distinct scopes; at most \(MerchantConfiguration.maxScopes)")
        }
        RoutingRuleReader.checkNames(
            configuration.routing.rules + configuration.merchants.flatMap(\.rules), reader: reader.section("routing"))
        reader.rejectUnknownKeys(known: sections)
        if !reader.collected.isEmpty { throw ConfigurationError(problems: reader.collected) }
        return configuration
    }

    private static func compose(_ yaml: String, file: String) throws(ConfigurationError) -> Node? {
        do {
            return try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigurationError(problems: [syntaxProblem(error, file: file)])
        } catch {
            throw ConfigurationError(file: file, message: "not valid YAML: \(error)")
        }
    }

    /// A reader over another file the configuration names (the token
    /// secrets), whose problems join `reader`'s.
    static func reader(yaml: String, file: String, sharingProblemsWith reader: ConfigReader) throws(ConfigurationError)
        -> ConfigReader
    {
        ConfigReader(root: try compose(yaml, file: file), file: file, sharingProblemsWith: reader)
    }

    /// A reader over a YAML document of another kind that shares the
    /// configuration's rules and error messages (the simulator's scenarios).
    package static func reader(yaml: String, file: String) throws(ConfigurationError) -> ConfigReader {
        ConfigReader(root: try compose(yaml, file: file), file: file)
    }

    /// The directory part of a path, with its slash ("" for a bare name).
    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[...slash])
    }

    /// Gateways a configuration may list: a failover list must fit one reply.
    public static let maxGateways = 64

    /// Reads a list of entries, refusing a second entry with an id already seen.
    private static func uniqueEntries<T>(
        _ readers: [ConfigReader], kind: String, id: (T) -> String, _ build: (ConfigReader) -> T?
    ) -> [T] {
        var seen: [String: (file: String, path: String)] = [:]
        var entries: [T] = []
        entries.reserveCapacity(readers.count)
        for entryReader in readers {
            guard let entry = build(entryReader) else { continue }
            if let first = seen[id(entry)] {
                let place = first.file == entryReader.file ? first.path : "\(first.path) of \(first.file)"
                entryReader.report(field: "id", "duplicate \(kind) id '\(id(entry))' (first in \(place))")
                continue
            }
            seen[id(entry)] = (entryReader.file, entryReader.path)
            entries.append(entry)
        }
        return entries
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
