import Foundation
import SwitchyardTesting
import Testing

@testable import SwitchyardCore

/// `authorization.tokens` and its secrets file: read, and every mistake
/// named with its file, line and field.
@Suite struct TokenSettingsTests {
    static let secretHex = String(repeating: "ab", count: 32)

    static func configuration(_ tokens: String, secrets: String?, mode: Int = 0o600) throws -> (
        Configuration?, [String]
    ) {
        let directory = try TemporaryDirectory()
        if let secrets {
            let file = try directory.write("token-secrets.yaml", secrets)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
        }
        let main = try directory.write("switchyard.yaml", "authorization:\n  tokens:\n" + tokens)
        do {
            return (try Configuration.load(path: main), [])
        } catch {
            return (
                nil,
                error.problems.map {
                    "\(URL(fileURLWithPath: $0.file).lastPathComponent):\($0.line): \($0.field): \($0.message)"
                }
            )
        }
    }

    static let good = """
            issuer: "https://auth.example.com"
            audience: switchyard
            merchant_claim: mid
            hs256_secrets_file: token-secrets.yaml

        """

    @Test func settingsAndSecretsAreRead() throws {
        let (configuration, problems) = try Self.configuration(
            Self.good,
            secrets: "secrets:\n  m_1:\n    - {kid: k1, hex: \(Self.secretHex)}\n    - {hex: \(Self.secretHex)cd}\n")
        #expect(problems.isEmpty, "\(problems)")
        let tokens = try #require(configuration?.authorization.tokens)
        #expect(tokens.issuer == "https://auth.example.com" && tokens.audience == "switchyard")
        #expect(tokens.merchantClaim == "mid" && tokens.scopesClaim == "scope" && tokens.clockSkewSeconds == 30)
        #expect(tokens.secrets["m_1"]?.map(\.kid) == ["k1", ""])
        #expect(tokens.secrets["m_1"]?.last?.bytes.count == 33)
    }

    @Test func everyMistakeIsNamed() throws {
        let (_, missing) = try Self.configuration("    merchant_claim: mid\n", secrets: nil)
        #expect(
            missing.contains { $0.contains("authorization.tokens.issuer: tokens are checked against") }, "\(missing)")
        #expect(missing.contains { $0.contains("authorization.tokens.audience:") })
        #expect(missing.contains { $0.contains("authorization.tokens.hs256_secrets_file: tokens need the file") })

        let (_, open) = try Self.configuration(Self.good, secrets: "secrets: {}\n", mode: 0o644)
        #expect(open.contains { $0.contains("is readable by others (mode 644)") }, "\(open)")

        let (_, bad) = try Self.configuration(
            Self.good,
            secrets: "secrets:\n  m_1:\n    - {kid: k1, hex: abcd}\n    - {kid: k2, hex: \(Self.secretHex), x: 1}\n"
                + "    - {kid: k2, hex: \(Self.secretHex)}\n")
        #expect(
            bad.contains(
                "token-secrets.yaml:3: secrets.m_1[0].hex: an HS256 secret is at least 32 bytes, given as hex"),
            "\(bad)")
        #expect(bad.contains { $0.hasPrefix("token-secrets.yaml:4: secrets.m_1[1]") && $0.contains("unknown field") })
        #expect(bad.contains("token-secrets.yaml:5: secrets.m_1[2].kid: a second secret with kid 'k2'"))

        let (_, absent) = try Self.configuration(Self.good, secrets: nil)
        #expect(absent.contains { $0.contains("hs256_secrets_file") && $0.contains("cannot read") }, "\(absent)")
    }
}
