import SwitchyardTesting
import Testing

@testable import SwitchyardCore

/// The PyJWT vectors (``TokenVectors``), checked at Unix second
/// 1,800,000,000: every acceptance and every rejection path.
@Suite struct TokenVerifierTests {
    static let secret = TokenVectors.secret
    static let vectors = TokenVectors.vectors
    static let now: Int64 = 1_800_000_000

    static func settings(scopesClaim: String = "scope", publicKeys: [String] = ["r1", "r2", "e1"]) -> TokenSettings {
        TokenVectors.settings(scopesClaim: scopesClaim, publicKeys: publicKeys)
    }

    static func verify(
        _ name: String, merchant: String = "m_1", kid: String = "k1", scopesClaim: String = "scope", now: Int64 = now,
        operation: String = "payments:create", publicKeys: [String] = ["r1", "r2", "e1"]
    ) -> Result<TokenVerifier.Verified, TokenVerifier.Failure> {
        let verifier = TokenVerifier(
            settings: settings(scopesClaim: scopesClaim, publicKeys: publicKeys),
            secrets: [[try! TokenVerifier.Secret(kid: kid, secret: secret)]])
        let token = Array((vectors[name] ?? name).utf8)
        let merchantID = Array(merchant.utf8)
        let operation = Array(operation.utf8)
        return token.withUnsafeBytes { token in
            merchantID.withUnsafeBytes { merchantID in
                operation.withUnsafeBytes {
                    verifier.verify(token, merchant: 0, merchantID: merchantID, operation: $0, now: now)
                }
            }
        }
    }

    static func failure(_ name: String, merchant: String = "m_1") -> TokenVerifier.Failure? {
        if case .failure(let failure) = verify(name, merchant: merchant) { return failure }
        return nil
    }

    @Test func validTokensAreAcceptedWithTheirScopes() throws {
        let valid = try Self.verify("valid").get()
        #expect(valid.expires == 2_000_000_000 && valid.permitsOperation)
        #expect(try Self.verify("valid", operation: "refunds:create").get().permitsOperation)
        #expect(try !Self.verify("valid", operation: "payouts:create").get().permitsOperation)
        #expect(try !Self.verify("valid", operation: "payments").get().permitsOperation, "whole scopes only")
        #expect(try !Self.verify("valid", operation: "").get().permitsOperation, "a scoped token names its operation")
        #expect(try Self.verify("validWithoutKid").get().permitsOperation, "no kid: the merchant's secrets are tried")
        #expect(try Self.verify("audienceList").get().expires == 2_000_000_000)
        #expect(try Self.verify("scopeList", scopesClaim: "scp").get().permitsOperation)
        #expect(try !Self.verify("scopeList", scopesClaim: "scp", operation: "refunds:create").get().permitsOperation)
        #expect(try Self.verify("noScope", operation: "").get().permitsOperation, "no scope claim: any operation")
        // Within the clock skew (30 s) of exp and nbf.
        #expect((try? Self.verify("valid", now: 2_000_000_029).get()) != nil)
        #expect((try? Self.verify("valid", now: 1_699_999_971).get()) != nil)
    }

    @Test(arguments: [
        ("expired", TokenVerifier.Failure.expired),
        ("notYetValid", .notYetValid),
        ("wrongAudience", .claimsRejected),
        ("wrongIssuer", .claimsRejected),
        ("otherMerchant", .claimsRejected),
        ("noExpiry", .claimsRejected),
        ("otherSecret", .signatureInvalid),
        ("swappedClaims", .signatureInvalid),
        ("unknownKid", .keyUnknown),
        ("hs512", .algorithmRejected),
        ("algNone", .algorithmRejected),
        ("critical", .malformed),
        ("oversizedHeader", .malformed),
        ("not.a.token!", .malformed),
        ("onlyone.dot", .malformed),
        ("a.b.c.d", .malformed),
        ("..", .malformed),
        ("e30.e30.", .malformed),
        ("rs256UnknownKid", .keyUnknown),
        ("rs256WrongKey", .signatureInvalid),
        ("rs256SwappedClaims", .signatureInvalid),
        ("rs256Expired", .expired),
        ("es256UnderRSAKid", .algorithmRejected),
        ("rs384", .algorithmRejected),
        ("hs256KeyedWithPublicKey", .keyUnknown),
    ])
    func everyRejectionHasItsReason(_ name: String, _ expected: TokenVerifier.Failure) {
        #expect(Self.failure(name) == expected, "\(name)")
    }

    @Test(arguments: ["rs256", "rs256Rotated", "rs256WithoutKid", "es256"])
    func publicKeyTokensAreAccepted(_ name: String) throws {
        let verified = try Self.verify(name).get()
        #expect(verified.expires == 2_000_000_000 && verified.permitsOperation)
        #expect(try !Self.verify(name, operation: "payouts:create").get().permitsOperation)
    }

    /// Rotation: with r1 retired, its tokens name a kid no longer known and
    /// r2's still pass; an algorithm no configured key is for is refused as such.
    @Test func publicKeysRotateByKid() throws {
        #expect(Self.verify("rs256", publicKeys: ["r2"]) == .failure(.keyUnknown))
        #expect(try Self.verify("rs256Rotated", publicKeys: ["r2"]).get().permitsOperation)
        #expect(Self.verify("es256", publicKeys: ["r1", "r2"]) == .failure(.algorithmRejected))
        #expect(Self.verify("rs256WithoutKid", publicKeys: ["r2"]) == .failure(.signatureInvalid))
    }

    @Test func theClockSkewBoundsBothEnds() {
        #expect(Self.failure("valid", merchant: "m_1") == nil)
        if case .failure(let failure) = Self.verify("valid", now: 2_000_000_030) { #expect(failure == .expired) }
        if case .failure(let failure) = Self.verify("valid", now: 1_699_999_969) { #expect(failure == .notYetValid) }
    }

    @Test func aMerchantWithoutSecretsKnowsNoKey() {
        let verifier = TokenVerifier(settings: Self.settings(), secrets: [[]])
        let token = Array(Self.vectors["valid"]!.utf8)
        let result = token.withUnsafeBytes { token in
            Array("m_1".utf8).withUnsafeBytes {
                verifier.verify(
                    token, merchant: 0, merchantID: $0, operation: UnsafeRawBufferPointer(start: nil, count: 0),
                    now: Self.now)
            }
        }
        #expect(result == .failure(.keyUnknown))
    }
}
