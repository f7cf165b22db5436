import SwitchyardCore
import Testing

/// The `audit` section: off by default, read, and each mistake named with its line and field.
@Suite struct AuditSettingsTests {
    @Test func offByDefaultAndReadWhenGiven() throws {
        #expect(!Configuration().audit.isEnabled)
        let audit = try Configuration.parse(
            yaml: """
                audit:
                  path: /var/log/switchyard/audit.jsonl
                  events: [denials, allows]
                  max_file_bytes: 1048576
                  retain_files: 3
                  buffer_bytes: 65536
                  flush_interval_ms: 5
                """, file: "a.yaml"
        ).audit
        #expect(audit.isEnabled && audit.path == "/var/log/switchyard/audit.jsonl")
        #expect(audit.events == [.denials, .allows] && audit.maxFileBytes == 1_048_576)
        #expect(audit.retainFiles == 3 && audit.bufferBytes == 65_536 && audit.flushIntervalMilliseconds == 5)
    }

    @Test func mistakesAreNamed() {
        let problems = configurationProblems(
            """
            audit:
              path: audit.jsonl
              events: [denials, everything]
              max_file_bytes: 100
              retain_files: -1
              rotate: daily
            """, file: "a.yaml"
        ).map(\.description)
        for expected in [
            "a.yaml:3:21: audit.events[1]: 'everything' is not an audit event (denials, allows, decisions)",
            "a.yaml:4:19: audit.max_file_bytes: 100 is out of range", "a.yaml:5:17: audit.retain_files",
            "a.yaml:6:11: audit.rotate: unknown field",
        ] {
            #expect(problems.contains { $0.hasPrefix(expected) }, "\(expected): \(problems)")
        }
    }
}
