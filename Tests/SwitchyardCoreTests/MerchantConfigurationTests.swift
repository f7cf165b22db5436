import Foundation
import SwitchyardCore
import Testing

@Suite struct MerchantConfigurationTests {
    static let gateways = """
        gateways:
          - {id: razorpay, methods: [card, upi], currencies: [INR]}
          - {id: payu, methods: [card], currencies: [INR]}

        """

    @Test func readsMerchantRulesAndSegments() throws {
        let configuration = try Configuration.parse(
            yaml: Self.gateways + """
                routing:
                  exploration_floor_percent: 1
                  exploration_ceiling_percent: 5
                  latency_target_ms: 1500
                  segments:
                    card_network: true
                    currency: true
                    amount_bands: [10_000, 1000000]
                merchants:
                  - id: m_1
                    allowed_methods: [card]
                    gateways:
                      deny: [payu]
                      priority: [razorpay]
                      weights: {razorpay: 1.5}
                  - id: m_2
                """, file: "m.yaml")
        #expect(configuration.routing.explorationFloorPercent == 1)
        #expect(configuration.routing.latencyTargetMilliseconds == 1_500)
        #expect(configuration.routing.segments.amountBands == [10_000, 1_000_000])
        #expect(configuration.routing.segments.cardNetwork && configuration.routing.segments.currency)
        let merchant = configuration.merchants[0]
        #expect(merchant.allowedMethods == ["card"] && merchant.deniedGateways == ["payu"])
        #expect(merchant.priority == ["razorpay"] && merchant.weights == ["razorpay": 1.5])
        #expect(configuration.merchants[1].allowedGateways == nil && configuration.merchants[1].allowedMethods == nil)
    }

    @Test func everyMerchantMistakeIsNamedWithItsPlace() {
        let found = configurationProblems(
            Self.gateways + """
                routing:
                  exploration_floor_percent: 20
                  exploration_ceiling_percent: 10
                  segments:
                    amount_bands: [500, 100]
                merchants:
                  - id: m_1
                    allowed_methods: [crypto]
                    gateways:
                      allow: [stripe]
                      weights: {payu: -2, ccavenue: 1}
                  - id: m_1
                  - id: "has space"
                """, file: "m.yaml")
        let described = found.map(\.description)
        #expect(
            described.contains { $0.hasPrefix("m.yaml:6:32: routing.exploration_ceiling_percent: must be at least") })
        #expect(
            described.contains { $0.hasPrefix("m.yaml:8:19: routing.segments.amount_bands: bounds must be strictly") })
        #expect(
            described.contains {
                $0.hasPrefix("m.yaml:11:23: merchants[0].allowed_methods[0]: 'crypto' is not a method")
            })
        #expect(
            described.contains {
                $0.hasPrefix("m.yaml:13:15: merchants[0].gateways.allow[0]: unknown gateway 'stripe'")
            })
        #expect(
            described.contains { $0.hasPrefix("m.yaml:14:23: merchants[0].gateways.weights.payu: -2 is out of range") })
        #expect(
            described.contains { $0.hasPrefix("m.yaml:14:37: merchants[0].gateways.weights.ccavenue: unknown gateway") }
        )
        #expect(described.contains { $0.hasPrefix("m.yaml:15:9: merchants[1].id: duplicate merchant id 'm_1'") })
        #expect(described.contains { $0.hasPrefix("m.yaml:16:9: merchants[2].id: 'has space' is not a merchant id") })
    }
}

@Suite struct MerchantAuthorizationConfigurationTests {
    static let hashA = "hmac-sha256:" + String(repeating: "0a", count: 32)
    static let hashB = "hmac-sha256:" + String(repeating: "b1", count: 32)

    @Test func readsStatusKeysLimitsAndAllowlist() throws {
        let configuration = try Configuration.parse(
            yaml: """
                merchants:
                  - id: m_1
                    status: suspended
                    tier: enterprise
                    keys:
                      - hash: "\(Self.hashA)"
                      - {hash: "\(Self.hashB)", mode: test, expires: "2027-01-31T00:00:00Z"}
                    limits:
                      - {rate: 100, period_ms: 1000, burst: 50}
                      - {rate: 3000, period_ms: 60000}
                    client_allowlist: [203.0.113.0/24, "2001:db8::/32", 198.51.100.7]
                """, file: "a.yaml")
        let merchant = configuration.merchants[0]
        #expect(merchant.status == .suspended && merchant.tier == "enterprise")
        #expect(merchant.keys.map(\.digest.storedForm) == [Self.hashA, Self.hashB])
        #expect(merchant.keys[1].mode == .test && merchant.keys[1].expiresAt == 1_801_353_600)
        #expect(merchant.limits[0].limit == RateLimit(rate: 100, periodNanoseconds: 1_000_000_000, burst: 50))
        #expect(merchant.limits[1].limit.burst == 0)
        #expect(merchant.clientAllowlist.map(\.description) == ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"])
    }

    @Test func everyAuthorizationMistakeIsNamedWithItsPlace() {
        let found = configurationProblems(
            """
            merchants:
              - id: m_1
                status: paused
                keys:
                  - hash: "sha1:abc"
                  - {hash: "\(Self.hashA)", mode: prod, expires: tomorrow}
                  - {hash: "\(Self.hashA)"}
                  - {mode: live}
                limits:
                  - {rate: 0, period_ms: 1000}
                  - {rate: 10}
                client_allowlist: [10.0.0.1/24, "300.1.1.1/8", "2001:db8::/129"]
            """, file: "a.yaml")
        let described = found.map(\.description)
        let expected = [
            "a.yaml:3:13: merchants[0].status: expected one of active, suspended, disabled",
            "a.yaml:5:15: merchants[0].keys[0].hash: not a stored key",
            "a.yaml:6:102: merchants[0].keys[1].mode: expected one of live, test",
            "a.yaml:6:117: merchants[0].keys[1].expires: 'tomorrow' is not a UTC time",
            "a.yaml:7:16: merchants[0].keys[2].hash: the same key is listed twice",
            "a.yaml:8:9: merchants[0].keys[3].hash: every key needs a hash",
            "a.yaml:10:16: merchants[0].limits[0].rate: 0 is out of range",
            "a.yaml:11:9: merchants[0].limits[1].period_ms: every limit needs rate and period_ms",
            "a.yaml:12:24: merchants[0].client_allowlist[0]: '10.0.0.1/24' is not an address block",
            "a.yaml:12:37: merchants[0].client_allowlist[1]: '300.1.1.1/8' is not an address block",
            "a.yaml:12:52: merchants[0].client_allowlist[2]: '2001:db8::/129' is not an address block",
        ]
        for prefix in expected {
            #expect(described.contains { $0.hasPrefix(prefix) }, "missing: \(prefix)\nin: \(described)")
        }
    }

    @Test func keyScopesAreReadAndCheckedWithTheirPlace() throws {
        let configuration = try Configuration.parse(
            yaml: """
                merchants:
                  - id: m_1
                    keys:
                      - {hash: "\(Self.hashA)", scopes: [payments:create, refunds:create]}
                      - {hash: "\(Self.hashB)"}
                """, file: "a.yaml")
        #expect(configuration.merchants[0].keys[0].scopes == ["payments:create", "refunds:create"])
        #expect(configuration.merchants[0].keys[1].scopes == nil, "no scopes: any operation")
        let found = configurationProblems(
            """
            merchants:
              - id: m_1
                keys:
                  - {hash: "\(Self.hashA)", scopes: ["Payments:Create", "refunds::x", ":a"]}
                  - {hash: "\(Self.hashB)", scopes: []}
            """, file: "a.yaml")
        let described = found.map(\.description)
        for prefix in [
            "a.yaml:4:105: merchants[0].keys[0].scopes[0]: 'Payments:Create' is not a scope",
            "a.yaml:4:124: merchants[0].keys[0].scopes[1]: 'refunds::x' is not a scope",
            "a.yaml:4:138: merchants[0].keys[0].scopes[2]: ':a' is not a scope",
            "a.yaml:5:104: merchants[0].keys[1].scopes: an empty list allows nothing",
        ] {
            #expect(described.contains { $0.hasPrefix(prefix) }, "missing: \(prefix)\nin: \(described)")
        }
        let many = (0..<65).map { "s\($0)" }
        let tooMany = configurationProblems(
            "merchants:\n"
                + (0..<5).map { m in
                    "  - id: m_\(m)\n    keys: [{hash: \"\(m == 0 ? Self.hashA : Self.hashB)\", scopes: [\(many[(m * 13)..<min(65, m * 13 + 13)].joined(separator: ", "))]}]\n"
                }.joined(), file: "a.yaml")
        #expect(tooMany.map(\.message).contains("the keys name 65 distinct scopes; at most 64"), "\(tooMany)")
    }

    @Test func keysLimitsAndAllowlistsAreBoundedPerMerchant() {
        // The compiled table keeps counts in a byte or two per merchant: a
        // list past its bound is a configuration error, never truncated.
        let keys = (0..<65).map { index in
            "      - {hash: \"hmac-sha256:\(String(repeating: "0", count: 62))\(String(format: "%02x", index))\"}"
        }
        let limits = (0..<17).map { _ in "      - {rate: 10, period_ms: 1000}" }
        let blocks = (0..<1_025).map { "10.\($0 / 256).\($0 % 256).0/24" }
        let found = configurationProblems(
            """
            merchants:
              - id: m_1
                keys:
            \(keys.joined(separator: "\n"))
                limits:
            \(limits.joined(separator: "\n"))
                client_allowlist: [\(blocks.joined(separator: ", "))]
            """, file: "big.yaml"
        ).map(\.description)
        for expected in [
            "merchants[0].keys: at most 64 keys per merchant",
            "merchants[0].limits: at most 16 limits per merchant",
            "merchants[0].client_allowlist: at most 1024 address blocks per merchant",
        ] {
            #expect(found.contains { $0.contains(expected) }, "missing: \(expected)\nin: \(found)")
        }
    }

    @Test func addressBlocksMatchTheirAddressesOnly() throws {
        let v4 = try #require(CIDR(parsing: "203.0.113.0/25"))
        #expect(([203, 0, 113, 127] as [UInt8]).withUnsafeBytes { v4.contains($0) } as Bool)
        #expect(!(([203, 0, 113, 128] as [UInt8]).withUnsafeBytes { v4.contains($0) } as Bool))
        let v6 = try #require(CIDR(parsing: "2001:db8::/32"))
        var inside = [UInt8](repeating: 0, count: 16)
        inside[0] = 0x20
        inside[1] = 0x01
        inside[2] = 0x0D
        inside[3] = 0xB8
        inside[15] = 1
        #expect(inside.withUnsafeBytes { v6.contains($0) })
        inside[3] = 0xB9
        #expect(!inside.withUnsafeBytes { v6.contains($0) })
        #expect(
            !(([203, 0, 113, 1] as [UInt8]).withUnsafeBytes { v6.contains($0) } as Bool),
            "an IPv4 address is not in an IPv6 block")
        #expect(CIDR(parsing: "0.0.0.0/0") != nil)
        #expect(CIDR(parsing: "10.0.0.0/8/1") == nil)
        #expect(CIDR(parsing: "10.0.0.0/+8") == nil)
    }
}

@Suite struct MerchantsFileTests {
    @Test func merchantsMayLiveInAFileOfTheirOwn() throws {
        let directory =
            NSTemporaryDirectory() + "switchyard-merchants-\(getpid())-\(UInt32.random(in: 0...UInt32.max))/"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let main = directory + "switchyard.yaml"
        try """
        gateways:
          - {id: razorpay, methods: [card], currencies: [INR]}
        merchants:
          - id: m_inline
        merchants_file: merchants.yaml
        """.write(toFile: main, atomically: true, encoding: .utf8)
        try """
        merchants:
          - id: m_1
            gateways: {allow: [razorpay]}
          - id: m_2
        """.write(toFile: directory + "merchants.yaml", atomically: true, encoding: .utf8)
        let configuration = try Configuration.load(path: main)
        #expect(configuration.merchants.map(\.id) == ["m_inline", "m_1", "m_2"])

        try """
        merchants:
          - id: m_1
          - id: m_inline
          - id: m_3
            gateways: {deny: [stripe]}
        """.write(toFile: directory + "merchants.yaml", atomically: true, encoding: .utf8)
        do {
            _ = try Configuration.load(path: main)
            Issue.record("a bad merchants file was accepted")
        } catch {
            let described = error.problems.map(\.description)
            #expect(
                described.contains {
                    $0.hasPrefix(
                        directory
                            + "merchants.yaml:3:9: merchants[1].id: duplicate merchant id 'm_inline' (first in merchants[0] of \(main))"
                    )
                }, "\(described)")
            #expect(
                described.contains {
                    $0.hasPrefix(
                        directory + "merchants.yaml:5:23: merchants[2].gateways.deny[0]: unknown gateway 'stripe'")
                }, "\(described)")
        }
        try "merchants: [".write(toFile: directory + "merchants.yaml", atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try Configuration.load(path: main) }
        try FileManager.default.removeItem(atPath: directory + "merchants.yaml")
        do {
            _ = try Configuration.load(path: main)
        } catch {
            #expect(error.problems.contains { $0.field == "merchants_file" && $0.message.contains("cannot read") })
        }
    }
}

@Suite struct AuthorizationConfigurationTests {
    @Test func readsFailureBudgetsAndNamesMistakes() throws {
        let configuration = try Configuration.parse(
            yaml: """
                authorization:
                  failures_per_merchant: {rate: 5, period_ms: 1000, burst: 1}
                  address_slots: 2048
                """, file: "z.yaml")
        #expect(
            configuration.authorization.failuresPerMerchant
                == RateLimit(rate: 5, periodNanoseconds: 1_000_000_000, burst: 1))
        #expect(configuration.authorization.failuresPerAddress == AuthorizationConfiguration().failuresPerAddress)
        #expect(configuration.authorization.addressSlots == 2_048)
        let described = configurationProblems(
            """
            authorization:
              failures_per_address: {rate: 0, period_ms: 1000, colour: red}
              address_slots: 10
              lockout: true
            """, file: "z.yaml"
        ).map(\.description)
        for prefix in [
            "z.yaml:2:32: authorization.failures_per_address.rate: 0 is out of range",
            "z.yaml:2:60: authorization.failures_per_address.colour: unknown field",
            "z.yaml:3:18: authorization.address_slots: 10 is out of range",
            "z.yaml:4:12: authorization.lockout: unknown field",
        ] {
            #expect(described.contains { $0.hasPrefix(prefix) }, "missing: \(prefix)\nin: \(described)")
        }
    }
}
