import SwitchyardTesting
import Testing

@testable import SwitchyardCore

/// A loop's cache of verified tokens: a token presented again is served
/// from it, never past its `exp` (plus skew), never for another merchant,
/// operation or verifier, and nothing refused is remembered.
@Suite struct TokenCacheTests {
    static let now: Int64 = 1_800_000_000

    static func verifier(publicKeys: [String] = ["r1", "r2", "e1"]) -> TokenVerifier {
        TokenVerifier(
            settings: TokenVectors.settings(publicKeys: publicKeys),
            secrets: [[try! TokenVerifier.Secret(kid: "k1", secret: TokenVectors.secret)], []])
    }

    static func bytes(_ text: String) -> [UInt8] { Array((TokenVectors.vectors[text] ?? text).utf8) }

    static func verify(
        _ name: String, _ verifier: TokenVerifier, _ cache: TokenCache, merchant: Int = 0, merchantID: String = "m_1",
        operation: String = "payments:create", now: Int64 = now
    ) -> Result<TokenVerifier.Verified, TokenVerifier.Failure> {
        let (token, id, operation) = (bytes(name), Array(merchantID.utf8), Array(operation.utf8))
        return token.withUnsafeBytes { token in
            id.withUnsafeBytes { id in
                operation.withUnsafeBytes {
                    verifier.verify(token, merchant: merchant, merchantID: id, operation: $0, now: now, cache: cache)
                }
            }
        }
    }

    static func remembered(
        _ name: String, _ verifier: TokenVerifier, _ cache: TokenCache, merchant: Int = 0,
        operation: String = "payments:create", now: Int64 = now
    ) -> TokenVerifier.Verified? {
        let (token, operation) = (bytes(name), Array(operation.utf8))
        return token.withUnsafeBytes { token in
            operation.withUnsafeBytes {
                cache.lookup(token, merchant: merchant, operation: $0, generation: verifier.generation, now: now)
            }
        }
    }

    @Test(arguments: ["valid", "rs256", "es256"])
    func anAcceptedTokenIsRememberedWithItsVerdict(_ name: String) throws {
        let (verifier, cache) = (Self.verifier(), TokenCache(capacity: 64))
        #expect(Self.remembered(name, verifier, cache) == nil)
        let verified = try Self.verify(name, verifier, cache).get()
        #expect(Self.remembered(name, verifier, cache) == verified)
        #expect(try Self.verify(name, verifier, cache).get() == verified)
    }

    @Test func anEntryNeverOutlivesTheToken() {
        let (verifier, cache) = (Self.verifier(), TokenCache(capacity: 64))
        _ = Self.verify("rs256", verifier, cache)
        // exp 2,000,000,000 plus the 30 s skew, as the verifier itself has it.
        #expect(Self.remembered("rs256", verifier, cache, now: 2_000_000_029) != nil)
        #expect(Self.remembered("rs256", verifier, cache, now: 2_000_000_030) == nil)
        #expect(Self.verify("rs256", verifier, cache, now: 2_000_000_030) == .failure(.expired))
    }

    @Test func aHitIsForTheSameMerchantAndOperationOnly() throws {
        let (verifier, cache) = (Self.verifier(), TokenCache(capacity: 64))
        _ = Self.verify("rs256", verifier, cache)
        #expect(Self.remembered("rs256", verifier, cache, merchant: 1) == nil)
        #expect(Self.remembered("rs256", verifier, cache, operation: "refunds:create") == nil)
        #expect(try !Self.verify("rs256", verifier, cache, operation: "payouts:create").get().permitsOperation)
        #expect(
            Self.verify("rs256", verifier, cache, merchant: 1, merchantID: "m_2") == .failure(.claimsRejected),
            "the merchant claim is m_1")
    }

    @Test func nothingRefusedIsRemembered() {
        let (verifier, cache) = (Self.verifier(), TokenCache(capacity: 64))
        for name in ["rs256WrongKey", "otherSecret", "expired", "es256UnderRSAKid"] {
            #expect(throws: TokenVerifier.Failure.self) { try Self.verify(name, verifier, cache).get() }
            #expect(Self.remembered(name, verifier, cache) == nil, "\(name)")
        }
    }

    /// A reload builds a new verifier: what the old one accepted lapses
    /// (here r1 was retired, so its token is no longer good).
    @Test func aReplacedVerifiersEntriesLapse() {
        let cache = TokenCache(capacity: 64)
        _ = Self.verify("rs256", Self.verifier(), cache)
        let reloaded = Self.verifier(publicKeys: ["r2"])
        #expect(Self.verify("rs256", reloaded, cache) == .failure(.keyUnknown))
    }

    @Test func aTokenThatLandsOnATakenSlotReplacesIt() {
        let (verifier, cache) = (Self.verifier(), TokenCache(capacity: 1))
        _ = Self.verify("rs256", verifier, cache)
        _ = Self.verify("es256", verifier, cache)
        #expect(Self.remembered("rs256", verifier, cache) == nil)
        #expect(Self.remembered("es256", verifier, cache) != nil)
        #expect(TokenCache(capacity: 1_000).capacity == 1_024)
    }

    @Test func anOversizedTokenIsNeverRemembered() {
        let cache = TokenCache(capacity: 64)
        let long = [UInt8](repeating: 0x61, count: TokenCache.maxTokenBytes + 1)
        let verified = TokenVerifier.Verified(permitsOperation: true, expires: Self.now + 60)
        let found = long.withUnsafeBytes { token in
            let none = UnsafeRawBufferPointer(start: nil, count: 0)
            cache.remember(token, merchant: 0, operation: none, generation: 1, verified: verified, validUntil: .max)
            return cache.lookup(token, merchant: 0, operation: none, generation: 1, now: Self.now)
        }
        #expect(found == nil)
    }
}
