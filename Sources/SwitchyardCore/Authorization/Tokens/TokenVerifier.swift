import Foundation
import Synchronization

/// JSON Web Tokens (RFC 7519) presented as bearer credentials, signed with
/// HS256 under a secret of the merchant's, or with RS256 or ES256 under one
/// of the issuer's public keys. The three parts are decoded into stack
/// buffers and the JSON read in place, so an HS256 check allocates nothing;
/// an RS256 or ES256 one allocates only inside OpenSSL.
///
/// In order: the token's shape; `alg` and `crit` (none understood, so none
/// allowed); the key: for HS256 the merchant's secret (by `kid` when the
/// token names one, else each of them), for RS256 and ES256 the public key
/// the `kid` names (else each for that algorithm). `alg` must be the one
/// the key is for: never `none`, never HS256 under a public key. Then the
/// signature, before any claim is trusted; then `exp` (required) and `nbf`
/// with the clock skew, `iss`, `aud`, and the merchant claim, which must
/// name the merchant the request is for.
public struct TokenVerifier: Sendable {
    public enum Failure: Error, Equatable, Sendable {
        /// Not three base64url parts of JSON objects within the size limits,
        /// a claim of the wrong type or given twice, or a `crit` header.
        case malformed
        /// An `alg` no configured key is for, or not the one the key its
        /// `kid` names is for.
        case algorithmRejected
        /// No key for the token: for HS256 the merchant has no secret (or
        /// none with its `kid`), for RS256 and ES256 no public key has its `kid`.
        case keyUnknown
        case signatureInvalid
        case expired
        case notYetValid
        /// No `exp`, or `iss`, `aud` or the merchant claim are not the expected ones.
        case claimsRejected
    }

    public struct Verified: Equatable, Sendable {
        /// Whether the token's scopes include the request's operation (a
        /// token without a scope claim may do anything; one with a claim,
        /// only what it lists, and a request naming no operation, nothing).
        public let permitsOperation: Bool
        public let expires: Int64
    }

    /// One of a merchant's HS256 secrets, with the `kid` tokens name it by (empty: none).
    public struct Secret: Sendable {
        let kid: [UInt8]
        let hasher: KeyHasher

        public init(kid: String, secret: [UInt8]) throws(KeyHasher.SecretError) {
            self.kid = Array(kid.utf8)
            hasher = try KeyHasher(secret: secret)
        }
    }

    /// The largest token taken, and of its decoded header and claims. (The
    /// decoded parts go to stack buffers, which Swift gives up to 1 KiB
    /// each; larger ones would come from the heap.)
    public static let maxTokenBytes = 4_096
    static let maxHeaderBytes = 512
    static let maxClaimsBytes = 1_024

    let issuer: [UInt8]
    let audience: [UInt8]
    let merchantClaim: [UInt8]
    let scopesClaim: [UInt8]
    let skew: Int64
    /// Per merchant (table order): its secrets.
    let secrets: [[Secret]]
    /// The issuer's keys, with the `kid` each is named by.
    let publicKeys: [(kid: [UInt8], key: PublicKey)]
    /// Tells this verifier's cached verdicts from those of the one it
    /// replaced (a reload may have removed a key or changed a claim).
    public let generation: UInt64
    /// How many verified tokens a loop's ``TokenCache`` holds (0: none).
    public let cacheEntries: Int

    private static let generations = Atomic<UInt64>(0)

    public init(settings: TokenSettings, secrets: [[Secret]]) {
        issuer = Array(settings.issuer.utf8)
        audience = Array(settings.audience.utf8)
        merchantClaim = Array(settings.merchantClaim.utf8)
        scopesClaim = Array(settings.scopesClaim.utf8)
        skew = Int64(settings.clockSkewSeconds)
        self.secrets = secrets
        // The files were checked when the configuration was read.
        publicKeys = settings.publicKeys.compactMap { file in
            (try? PublicKey(pem: file.pem, algorithm: file.algorithm)).map { (Array(file.kid.utf8), $0) }
        }
        generation = Self.generations.add(1, ordering: .relaxed).newValue
        cacheEntries = settings.cacheEntries
    }

    /// The verdict `cache` remembers for the token, else `verify`'s, which
    /// the cache then remembers when the token was accepted.
    public func verify(
        _ token: UnsafeRawBufferPointer, merchant: Int, merchantID: UnsafeRawBufferPointer,
        operation: UnsafeRawBufferPointer, now: Int64, cache: TokenCache?
    ) -> Result<Verified, Failure> {
        guard let cache else {
            return verify(token, merchant: merchant, merchantID: merchantID, operation: operation, now: now)
        }
        if let hit = cache.lookup(token, merchant: merchant, operation: operation, generation: generation, now: now) {
            return .success(hit)
        }
        let result = verify(token, merchant: merchant, merchantID: merchantID, operation: operation, now: now)
        if case .success(let verified) = result {
            cache.remember(
                token, merchant: merchant, operation: operation, generation: generation, verified: verified,
                validUntil: verified.expires.addingReportingOverflow(skew).partialValue)
        }
        return result
    }

    /// Verifies `token` for merchant `merchant` (its index, and its id as the
    /// request gave it) at Unix second `now`, for `operation` (empty: none named).
    public func verify(
        _ token: UnsafeRawBufferPointer, merchant: Int, merchantID: UnsafeRawBufferPointer,
        operation: UnsafeRawBufferPointer, now: Int64
    ) -> Result<Verified, Failure> {
        guard token.count <= Self.maxTokenBytes, let (first, second) = Self.dots(token) else {
            return .failure(.malformed)
        }
        let signingInput = UnsafeRawBufferPointer(rebasing: token[..<second])
        return withUnsafeTemporaryAllocation(byteCount: Self.maxHeaderBytes, alignment: 8) { header in
            withUnsafeTemporaryAllocation(byteCount: Self.maxClaimsBytes, alignment: 8) { claims in
                withUnsafeTemporaryAllocation(byteCount: PublicKey.maxSignatureBytes, alignment: 8) { signature in
                    guard let headerCount = Base64URL.decode(slice(token, 0, first), into: header),
                        let claimsCount = Base64URL.decode(slice(token, first + 1, second), into: claims),
                        let signatureCount = Base64URL.decode(slice(token, second + 1, token.count), into: signature)
                    else { return .failure(.malformed) }
                    return verify(
                        header: UnsafeRawBufferPointer(rebasing: header[..<headerCount]),
                        claims: UnsafeRawBufferPointer(rebasing: claims[..<claimsCount]),
                        signature: UnsafeRawBufferPointer(rebasing: signature[..<signatureCount]),
                        signingInput: signingInput, merchant: merchant, merchantID: merchantID,
                        operation: operation, now: now)
                }
            }
        }
    }

    private func verify(
        header: UnsafeRawBufferPointer, claims: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer,
        signingInput: UnsafeRawBufferPointer, merchant: Int, merchantID: UnsafeRawBufferPointer,
        operation: UnsafeRawBufferPointer, now: Int64
    ) -> Result<Verified, Failure> {
        // The header: alg, kid, and no crit.
        var algorithm: JSONObjectReader.Text?
        var kid: JSONObjectReader.Text?
        var malformed = false
        let isObject = JSONObjectReader.members(header) { key, value in
            if key.equals("alg") {
                guard algorithm == nil, case .text(let text) = value else { return malformed = true }
                algorithm = text
            } else if key.equals("kid") {
                guard kid == nil, case .text(let text) = value else { return malformed = true }
                kid = text
            } else if key.equals("crit") {
                malformed = true
            }
        }
        guard isObject, !malformed, let algorithm else { return .failure(.malformed) }
        let signed: Result<Void, Failure>
        if algorithm.equals("HS256") {
            signed = checkHMAC(signature, of: signingInput, kid: kid, merchant: merchant)
        } else if algorithm.equals("RS256") {
            signed = checkPublicKey(signature, of: signingInput, kid: kid, algorithm: .rs256)
        } else if algorithm.equals("ES256") {
            signed = checkPublicKey(signature, of: signingInput, kid: kid, algorithm: .es256)
        } else {
            return .failure(.algorithmRejected)
        }
        if case .failure(let failure) = signed { return .failure(failure) }

        // The claims, now that they are the issuer's.
        var expires: Int64?
        var notBefore: Int64?
        var issuerMatches: Bool?
        var audienceMatches: Bool?
        var merchantMatches: Bool?
        var permits: Bool?
        let claimsAreObject = JSONObjectReader.members(claims) { key, value in
            if key.equals("exp") || key.equals("nbf") {
                let isExpiry = key.equals("exp")
                guard (isExpiry ? expires : notBefore) == nil, case .number(let number) = value,
                    let seconds = JSONObjectReader.seconds(number)
                else { return malformed = true }
                if isExpiry { expires = seconds } else { notBefore = seconds }
            } else if key.equals("iss") {
                guard issuerMatches == nil, case .text(let text) = value else { return malformed = true }
                issuerMatches = text.equals(issuer)
            } else if key.equals("aud") {
                guard audienceMatches == nil else { return malformed = true }
                switch value {
                case .text(let text): audienceMatches = text.equals(audience)
                case .array(let array):
                    var found = false
                    var wellTyped = true
                    JSONObjectReader.elements(array) { element in
                        guard case .text(let text) = element else { return wellTyped = false }
                        if text.equals(audience) { found = true }
                    }
                    guard wellTyped else { return malformed = true }
                    audienceMatches = found
                default: malformed = true
                }
            } else if key.equals(merchantClaim) {
                guard merchantMatches == nil, case .text(let text) = value else { return malformed = true }
                merchantMatches = text.equals(merchantID)
            } else if key.equals(scopesClaim) {
                guard permits == nil, let found = Self.lists(operation, in: value) else { return malformed = true }
                permits = found
            }
        }
        guard claimsAreObject, !malformed else { return .failure(.malformed) }
        guard let expires else { return .failure(.claimsRejected) }
        guard now < expires.addingReportingOverflow(skew).partialValue else { return .failure(.expired) }
        if let notBefore, now.addingReportingOverflow(skew).partialValue < notBefore {
            return .failure(.notYetValid)
        }
        guard issuerMatches == true || issuer.isEmpty, audienceMatches == true, merchantMatches == true else {
            return .failure(.claimsRejected)
        }
        return .success(Verified(permitsOperation: permits ?? true, expires: expires))
    }

    /// The signature under the merchant's secret the kid names (or any of its secrets).
    private func checkHMAC(
        _ signature: UnsafeRawBufferPointer, of signingInput: UnsafeRawBufferPointer, kid: JSONObjectReader.Text?,
        merchant: Int
    ) -> Result<Void, Failure> {
        guard merchant < secrets.count, !secrets[merchant].isEmpty else { return .failure(.keyUnknown) }
        var known = false
        var signed = false
        for secret in secrets[merchant] where kid.map({ $0.equals(secret.kid) }) ?? true {
            known = true
            if signature.count == 32, secret.hasher.digest(of: signingInput).matches(KeyDigest(bytes: signature)) {
                signed = true
            }
        }
        guard known else { return .failure(.keyUnknown) }
        return signed ? .success(()) : .failure(.signatureInvalid)
    }

    /// The signature under the public key the kid names (or, without one,
    /// any key for the algorithm). Only algorithms of configured keys are
    /// allowed, and a key only for its own.
    private func checkPublicKey(
        _ signature: UnsafeRawBufferPointer, of signingInput: UnsafeRawBufferPointer, kid: JSONObjectReader.Text?,
        algorithm: PublicKey.Algorithm
    ) -> Result<Void, Failure> {
        guard publicKeys.contains(where: { $0.key.algorithm == algorithm }) else { return .failure(.algorithmRejected) }
        var known = false
        for (name, key) in publicKeys where kid.map({ $0.equals(name) }) ?? true {
            guard key.algorithm == algorithm else {
                if kid != nil { return .failure(.algorithmRejected) }
                continue
            }
            known = true
            if key.verifies(signature, of: signingInput) { return .success(()) }
        }
        return .failure(known ? .signatureInvalid : .keyUnknown)
    }

    /// Whether a scope claim, space-separated in a string (OAuth's `scope`)
    /// or an array of strings (`scp`), lists `operation` (never, when it is
    /// empty). Nil when the claim has another type.
    private static func lists(_ operation: UnsafeRawBufferPointer, in value: JSONObjectReader.Value) -> Bool? {
        var found = false
        func search(_ text: JSONObjectReader.Text, split: Bool) {
            withUnsafeTemporaryAllocation(byteCount: 512, alignment: 1) { scratch in
                let bytes: UnsafeRawBufferPointer
                if text.escaped {
                    guard let count = JSONObjectReader.unescape(text.raw, into: scratch) else { return }
                    bytes = UnsafeRawBufferPointer(rebasing: scratch[..<count])
                } else {
                    bytes = text.raw
                }
                var start = 0
                for end in 0...bytes.count where end == bytes.count || (split && bytes[end] == 0x20) {
                    if end > start, operation.count > 0, JSONObjectReader.same(slice(bytes, start, end), operation) {
                        found = true
                    }
                    start = end + 1
                }
            }
        }
        switch value {
        case .text(let text): search(text, split: true)
        case .array(let array):
            var wellTyped = true
            JSONObjectReader.elements(array) { element in
                guard case .text(let text) = element else { return wellTyped = false }
                search(text, split: false)
            }
            guard wellTyped else { return nil }
        default: return nil
        }
        return found
    }

    /// The two dots of a compact JWS, when there are exactly two around a
    /// header and claims. (An empty signature is `alg: none`'s, refused for
    /// its algorithm.)
    private static func dots(_ token: UnsafeRawBufferPointer) -> (Int, Int)? {
        guard let start = token.baseAddress, let first = memchr(start, 0x2E, token.count) else { return nil }
        let one = start.distance(to: UnsafeRawPointer(first))
        guard let second = memchr(first + 1, 0x2E, token.count - one - 1) else { return nil }
        let two = start.distance(to: UnsafeRawPointer(second))
        guard one > 0, two > one + 1, memchr(second + 1, 0x2E, token.count - two - 1) == nil else { return nil }
        return (one, two)
    }

}

private func slice(_ bytes: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(rebasing: bytes[from..<to])
}
