import CCrypto

/// The stored form of an API key: HMAC-SHA-256 under the server's secret.
/// A leaked configuration reveals no key, and without the secret a stored
/// form cannot be tested against guesses offline.
public struct KeyDigest: Equatable, Sendable {
    /// The 32 bytes, as four words so that comparing them is a fixed sequence
    /// of operations.
    let words: (UInt64, UInt64, UInt64, UInt64)

    public static let prefix = "hmac-sha256:"

    init(bytes: UnsafeRawBufferPointer) {
        words = (
            bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
            bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
            bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
            bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        )
    }

    /// Parses `hmac-sha256:` and 64 lower-case hex digits; nil otherwise.
    public init?(storedForm text: String) { self.init(text, prefix: KeyDigest.prefix) }

    /// Parses `prefix` and 64 lower-case hex digits; nil otherwise.
    init?(_ text: String, prefix: String) {
        guard text.hasPrefix(prefix) else { return nil }
        let hex = Array(text.utf8.dropFirst(prefix.utf8.count))
        guard hex.count == 64 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 {
            guard let high = KeyDigest.nibble(hex[2 * i]), let low = KeyDigest.nibble(hex[2 * i + 1]) else {
                return nil
            }
            bytes[i] = high << 4 | low
        }
        self = bytes.withUnsafeBytes { KeyDigest(bytes: $0) }
    }

    public var storedForm: String { text(prefix: KeyDigest.prefix) }

    func text(prefix: String) -> String {
        var text = prefix
        for word in [words.0, words.1, words.2, words.3] {
            for shift in stride(from: 0, to: 64, by: 8) {
                let byte = UInt8(truncatingIfNeeded: word >> UInt64(shift))
                text += String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
            }
        }
        return text
    }

    /// Equality in constant time: every word is always compared.
    public func matches(_ other: KeyDigest) -> Bool {
        let difference =
            (words.0 ^ other.words.0) | (words.1 ^ other.words.1) | (words.2 ^ other.words.2)
            | (words.3 ^ other.words.3)
        return difference == 0
    }

    public static func == (a: KeyDigest, b: KeyDigest) -> Bool { a.matches(b) }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case 0x30...0x39: character - 0x30
        case 0x61...0x66: character - 0x61 + 10
        default: nil
        }
    }
}

/// Turns presented API keys into ``KeyDigest``s under the server secret,
/// without allocating: the HMAC key is prepared once (its pads absorbed),
/// and each digest is two short SHA-256 runs into a stack buffer.
public final class KeyHasher: @unchecked Sendable {
    // Unchecked: the prepared key is written once, in init, and only read after.
    private let prepared: UnsafeMutablePointer<ccrypto_hmac_key>

    /// The shortest secret accepted: HMAC-SHA-256 wants at least its output size.
    public static let minimumSecretBytes = 32

    public enum SecretError: Error, Equatable, CustomStringConvertible {
        case tooShort(Int)

        public var description: String {
            switch self {
            case .tooShort(let count):
                "the key secret has \(count) bytes; at least \(KeyHasher.minimumSecretBytes) are needed"
            }
        }
    }

    public init(secret: [UInt8]) throws(SecretError) {
        guard secret.count >= KeyHasher.minimumSecretBytes else { throw .tooShort(secret.count) }
        prepared = .allocate(capacity: 1)
        prepared.initialize(to: ccrypto_hmac_key())
        secret.withUnsafeBytes { ccrypto_hmac_key_init(prepared, $0.baseAddress, $0.count) }
    }

    deinit {
        ccrypto_hmac_key_clear(prepared)
        prepared.deallocate()
    }

    public func digest(of key: UnsafeRawBufferPointer) -> KeyDigest {
        withUnsafeTemporaryAllocation(byteCount: Int(CCRYPTO_SHA256_SIZE), alignment: 8) { out in
            ccrypto_hmac_sha256(
                prepared, key.baseAddress, key.count, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
            return KeyDigest(bytes: UnsafeRawBufferPointer(out))
        }
    }

    public func digest(of key: String) -> KeyDigest {
        var key = key
        return key.withUTF8 { digest(of: UnsafeRawBufferPointer($0)) }
    }
}
