import CCrypto

/// The stored form of the admin token: `sha256:` and its SHA-256 in hex.
/// A plain hash suffices (unlike API keys, no server secret is mixed in)
/// because the token is generated, not chosen: 32 random bytes cannot be
/// guessed offline from their hash. The configuration holds only this form;
/// the token itself stays with the operators (a file or an environment
/// variable that `switchyardctl` reads).
public struct AdminTokenDigest: Equatable, Sendable {
    public static let prefix = "sha256:"
    private let digest: KeyDigest

    /// Parses `sha256:` and 64 lower-case hex digits; nil otherwise.
    public init?(storedForm text: String) {
        guard let digest = KeyDigest(text, prefix: AdminTokenDigest.prefix) else { return nil }
        self.digest = digest
    }

    public init(token: String) {
        var token = token
        digest = token.withUTF8 { AdminTokenDigest.hash(UnsafeRawBufferPointer($0)) }
    }

    public var storedForm: String { digest.text(prefix: AdminTokenDigest.prefix) }

    /// Whether `token` is the admin token, in time that does not depend on
    /// how much of it is right.
    public func admits(_ token: UnsafeRawBufferPointer) -> Bool {
        digest.matches(AdminTokenDigest.hash(token))
    }

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> KeyDigest {
        withUnsafeTemporaryAllocation(byteCount: Int(CCRYPTO_SHA256_SIZE), alignment: 8) { out in
            ccrypto_sha256(bytes.baseAddress, bytes.count, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
            return KeyDigest(bytes: UnsafeRawBufferPointer(out))
        }
    }
}
