import Benchmark
import SwitchyardCore
import SwitchyardTesting

/// A bearer token checked as AUTHORIZE checks it: one of PyJWT's vectors
/// (``TokenVectors``), its base64url parts decoded, its header and claims
/// read, its signature checked, for operation payments:create; or, with a
/// cache, looked up among the tokens the loop has verified.
final class TokenFixture: @unchecked Sendable {
    // @unchecked: used from the benchmark thread only.
    let verifier: TokenVerifier
    let cache: TokenCache?
    let token: [UInt8]
    let merchant = Array("m_1".utf8)
    let operation = Array("payments:create".utf8)

    init(vector: String, cached: Bool) {
        verifier = TokenVerifier(
            settings: TokenVectors.settings(),
            secrets: [[try! TokenVerifier.Secret(kid: "k1", secret: TokenVectors.secret)]])
        token = Array(TokenVectors.vectors[vector]!.utf8)
        cache = cached ? TokenCache(capacity: 1_024) : nil
        verify()
    }

    func verify() {
        token.withUnsafeBytes { token in
            merchant.withUnsafeBytes { merchant in
                operation.withUnsafeBytes {
                    let result = verifier.verify(
                        token, merchant: 0, merchantID: merchant, operation: $0, now: 1_800_000_000, cache: cache)
                    precondition((try? result.get())?.permitsOperation == true, "the vector must verify")
                    blackHole(result)
                }
            }
        }
    }
}
