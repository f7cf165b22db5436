import Benchmark
import SwitchyardCore
import SwitchyardTesting

/// A bearer token checked as AUTHORIZE checks it: PyJWT's HS256 vector
/// (``TokenVectors``), its base64url parts decoded, its header and claims
/// read, its signature computed and compared, for operation payments:create.
final class TokenFixture: @unchecked Sendable {
    // @unchecked: used from the benchmark thread only.
    let verifier: TokenVerifier
    let token = Array(TokenVectors.vectors["valid"]!.utf8)
    let merchant = Array("m_1".utf8)
    let operation = Array("payments:create".utf8)

    init() {
        verifier = TokenVerifier(
            settings: TokenVectors.settings(),
            secrets: [[try! TokenVerifier.Secret(kid: "k1", secret: TokenVectors.secret)]])
        verify()
    }

    func verify() {
        token.withUnsafeBytes { token in
            merchant.withUnsafeBytes { merchant in
                operation.withUnsafeBytes {
                    let result = verifier.verify(
                        token, merchant: 0, merchantID: merchant, operation: $0, now: 1_800_000_000)
                    precondition((try? result.get())?.permitsOperation == true, "the vector must verify")
                    blackHole(result)
                }
            }
        }
    }
}
