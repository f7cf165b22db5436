import Foundation
import SwitchyardCore
import Testing

@Suite struct ConfigurationTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func problems(_ yaml: String) -> [ConfigurationError.Problem] {
        configurationProblems(yaml, file: "test.yaml")
    }

    @Test func theDocumentedDefaultFileEqualsTheBuiltInDefaults() throws {
        let path = Self.repository.appendingPathComponent("config/switchyard.yaml").path
        #expect(try Configuration.load(path: path) == Configuration())
    }

    /// config/switchyard.example.yaml is valid and shows every field the
    /// reference in docs/configuration.md documents.
    @Test func theExampleFileIsValidAndShowsEveryDocumentedField() throws {
        let example = Self.repository.appendingPathComponent("config/switchyard.example.yaml").path
        let configuration = try Configuration.load(path: example)
        #expect(configuration.redis.isEnabled && configuration.server.adminTokenHash != nil)
        #expect(configuration.logging.format == .json)
        let text = try String(contentsOfFile: example, encoding: .utf8)
        let reference = try String(
            contentsOf: Self.repository.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        var fields: [String] = []
        for line in reference.split(separator: "\n") where line.hasPrefix("| `") {
            let names = line.dropFirst(2).prefix { $0 != "|" }
            for name in names.split(separator: ",") {
                let field = name.trimmingCharacters(in: .whitespaces).trimmingCharacters(
                    in: CharacterSet(charactersIn: "`"))
                fields.append(String(field.split(separator: ".").last ?? ""))
            }
        }
        #expect(fields.count > 50)
        for field in fields where !text.contains("\(field):") && !text.contains("\(field): ") {
            Issue.record("config/switchyard.example.yaml does not show \(field)")
        }
    }

    @Test func builtInDefaults() {
        let server = Configuration().server
        #expect(server.listen == "127.0.0.1:7400")
        #expect(server.loops == 0)
        #expect(server.maxConnections == 10_000)
        #expect(server.maxBodyBytes == 16_384)
        #expect(server.idleTimeoutMilliseconds == 300_000)
        #expect(server.frameTimeoutMilliseconds == 10_000)
        #expect(server.shutdownGraceMilliseconds == 5_000)
        #expect(Configuration().logging.level == "info")
    }

    @Test func emptyFileMeansDefaults() throws {
        #expect(try Configuration.parse(yaml: "", file: "empty.yaml") == Configuration())
        #expect(try Configuration.parse(yaml: "server:\n", file: "s.yaml") == Configuration())
    }

    @Test func readsEveryField() throws {
        let configuration = try Configuration.parse(
            yaml: """
                server:
                  listen: "[::1]:9000"
                  loops: 3
                  instance_id: edge-1
                  max_connections: 50
                  max_body_bytes: 4096
                  idle_timeout_ms: 1_000
                  frame_timeout_ms: 0
                  shutdown_grace_ms: 0
                logging:
                  level: debug
                """, file: "full.yaml")
        #expect(configuration.server.listen == "[::1]:9000")
        #expect(configuration.server.loops == 3)
        #expect(configuration.server.instanceID == "edge-1")
        #expect(configuration.server.maxConnections == 50)
        #expect(configuration.server.maxBodyBytes == 4_096)
        #expect(configuration.server.idleTimeoutMilliseconds == 1_000)
        #expect(configuration.server.frameTimeoutMilliseconds == 0)
        #expect(configuration.server.shutdownGraceMilliseconds == 0)
        #expect(configuration.logging.level == "debug")
    }

    @Test func aWrongValueNamesFileLineAndField() {
        let found = problems(
            """
            server:
              max_connections: lots
            """)
        #expect(found.count == 1)
        #expect(
            found.first?.description
                == "test.yaml:2:20: server.max_connections: expected an integer from 1 to 1000000, got 'lots'")
    }

    @Test func aFrameTimeoutOutOfRangeIsNamed() {
        let found = problems("server:\n  frame_timeout_ms: 3600001\n")
        #expect(found.count == 1)
        #expect(found.first?.description.contains("server.frame_timeout_ms") == true, "\(found)")
        #expect(found.first?.description.contains("0 to 3600000") == true, "\(found)")
    }

    @Test func theAdminListenerTakesAnAddressOrNone() throws {
        let off = try Configuration.parse(yaml: "server: {admin_listen: none}", file: "test.yaml")
        #expect(off.server.adminListen == nil)
        let moved = try Configuration.parse(yaml: "server: {admin_listen: \"127.0.0.1:0\"}", file: "test.yaml")
        #expect(moved.server.adminListen == "127.0.0.1:0")
        let found = problems("server: {admin_listen: nowhere}")
        #expect(found.count == 1 && found.first?.field == "server.admin_listen", "\(found)")
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.adminListen(parsing: "nowhere").get() }
        #expect(try ServerConfiguration.adminListen(parsing: "none").get() == nil)
    }

    @Test func everyMistakeIsReportedInOneGo() {
        let found = problems(
            """
            server:
              loops: -1
              max_conections: 10
              listen: example.com:80
            logging:
              level: loud
            metrics: {}
            """)
        #expect(
            found.map(\.field) == [
                "server.listen", "server.loops", "server.max_conections", "logging.level", "metrics",
            ])
        #expect(found.map(\.line) == [4, 2, 3, 6, 7])
        #expect(found[0].message.contains("not a numeric IPv4 address"))
        #expect(found[1].message == "-1 is out of range: expected 0 to 256")
        #expect(found[2].message.hasPrefix("unknown field (known: listen, loops"))
        #expect(found[3].message == "expected one of trace, debug, info, notice, warning, error, critical, got 'loud'")
    }

    @Test(arguments: [
        ("127.0.0.1", "expected host:port"),
        ("127.0.0.1:99999", "must be 0 to 65535"),
        ("[::1]", "expected [IPv6]:port"),
        ("[127.0.0.1]:80", "is not an IPv6 address"),
        ("::1:80", "expected host:port"),
    ])
    func badListenAddresses(address: String, expected: String) {
        let found = problems("server:\n  listen: \"\(address)\"\n")
        #expect(found.first?.field == "server.listen")
        #expect(found.first?.message.contains(expected) == true, "\(found)")
    }

    @Test func wrongShapesAreNamed() {
        #expect(problems("- a\n- b\n").first?.message == "the top level must be a mapping of sections")
        #expect(problems("server: 5\n").first?.description == "test.yaml:1:9: server: expected a mapping")
        #expect(problems("server:\n  loops: [1]\n").first?.message.hasSuffix("got a list") == true)
        #expect(problems("server:\n  instance_id: {a: 1}\n").first?.message == "expected a string, got a mapping")
        #expect(
            problems("server:\n  instance_id: \(String(repeating: "x", count: 256))\n").first?.field
                == "server.instance_id")
    }

    @Test func yamlSyntaxErrorsCarryTheirPlace() {
        let found = problems("server:\n  listen: \"unterminated\n")
        #expect(found.count == 1)
        #expect(found.first?.line ?? 0 > 0)
        #expect(found.first?.message.hasPrefix("YAML syntax:") == true)
    }

    @Test func aMissingFileIsNamed() {
        do {
            _ = try Configuration.load(path: "/nonexistent/switchyard.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("/nonexistent/switchyard.yaml: cannot read the file"))
        }
    }
}
