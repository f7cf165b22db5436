import Foundation
import SwitchyardTesting
import Testing

@testable import SwitchyardCore

/// `authorization.tokens` and its secrets file: read, and every mistake
/// named with its file, line and field.
@Suite struct TokenSettingsTests {
    static let secretHex = String(repeating: "ab", count: 32)

    static func configuration(
        _ tokens: String, secrets: String?, mode: Int = 0o600, files: [String: String] = [:]
    ) throws -> (Configuration?, [String]) {
        let directory = try TemporaryDirectory()
        for (name, text) in files { _ = try directory.write(name, text) }
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
        #expect(
            missing.contains {
                $0.contains("authorization.tokens.hs256_secrets_file: tokens need the merchants' HS256 secrets")
            })

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

    static let keys = TokenVectors.publicKeys

    @Test func publicKeysAreReadAndChecked() throws {
        let (configuration, problems) = try Self.configuration(
            """
                issuer: "https://auth.example.com"
                audience: switchyard
                cache_entries: 128
                public_keys:
                  - {kid: r1, algorithm: RS256, pem_file: r1.pem}
                  - {kid: e1, algorithm: ES256, pem_file: e1.pem}

            """, secrets: nil, files: ["r1.pem": Self.keys["r1"]!, "e1.pem": Self.keys["e1"]!])
        #expect(problems.isEmpty, "\(problems)")
        let tokens = try #require(configuration?.authorization.tokens)
        #expect(tokens.publicKeys.map(\.kid) == ["r1", "e1"] && tokens.secrets.isEmpty)
        #expect(tokens.publicKeys.map(\.algorithm) == [.rs256, .es256] && tokens.cacheEntries == 128)
    }

    @Test func badPublicKeysAreConfigErrors() throws {
        let (_, problems) = try Self.configuration(
            """
                issuer: "https://auth.example.com"
                audience: switchyard
                public_keys:
                  - {kid: a, algorithm: RS256, pem_file: weak.pem}
                  - {kid: b, algorithm: ES256, pem_file: p384.pem}
                  - {kid: c, algorithm: ES256, pem_file: r1.pem}
                  - {kid: d, algorithm: RS256, pem_file: garbage.pem}
                  - {kid: e, algorithm: RS256, pem_file: absent.pem}
                  - {kid: e, algorithm: HS256, pem_file: r1.pem}
                  - {algorithm: RS256, pem_file: r1.pem}

            """, secrets: nil,
            files: [
                "weak.pem": Self.keys["weak"]!, "p384.pem": Self.keys["p384"]!, "r1.pem": Self.keys["r1"]!,
                "garbage.pem": "-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n",
            ])
        func expect(_ line: Int, _ field: String, _ text: String) {
            #expect(
                problems.contains {
                    $0.hasPrefix("switchyard.yaml:\(line): authorization.tokens.\(field)") && $0.contains(text)
                },
                "\(line) \(field): \(problems)")
        }
        expect(6, "public_keys[0].pem_file", "is an RSA key of 1024 bits")
        expect(7, "public_keys[1].pem_file", "is not an EC key on P-256")
        expect(8, "public_keys[2].pem_file", "is not an EC key on P-256")
        expect(9, "public_keys[3].pem_file", "holds no PEM public key")
        expect(10, "public_keys[4].pem_file", "cannot be read")
        expect(11, "public_keys[5].kid", "a second public key with kid 'e'")
        expect(11, "public_keys[5].algorithm", "'HS256' is not RS256 or ES256")
        expect(12, "public_keys[6].kid", "needs the kid")
    }
}
