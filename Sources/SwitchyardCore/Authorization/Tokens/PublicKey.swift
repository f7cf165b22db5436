internal import CCrypto

/// An RS256 or ES256 verification key read from PEM, shared by every loop
/// (OpenSSL's key objects are safe to read from several threads).
public final class PublicKey: @unchecked Sendable {
    // @unchecked: the key is never changed after it is read.
    public enum Algorithm: String, Sendable, CaseIterable {
        case rs256 = "RS256"
        case es256 = "ES256"
    }

    public enum ReadError: Error, Equatable, CustomStringConvertible {
        case notPEM
        case wrongType(expected: Algorithm)
        case weakRSA(bits: Int)

        public var description: String {
            switch self {
            case .notPEM: "holds no PEM public key (-----BEGIN PUBLIC KEY-----)"
            case .wrongType(.rs256): "is not an RSA key, which RS256 needs"
            case .wrongType(.es256): "is not an EC key on P-256, which ES256 needs"
            case .weakRSA(let bits): "is an RSA key of \(bits) bits; RS256 keys have 2048 to 8192"
            }
        }
    }

    public let algorithm: Algorithm
    private let key: OpaquePointer

    /// Reads the first public key of `pem`, which must suit `algorithm`.
    public init(pem: [UInt8], algorithm: Algorithm) throws(ReadError) {
        var kind: Int32 = 0
        var bits: Int32 = 0
        guard let key = pem.withUnsafeBytes({ ccrypto_public_key_read_pem($0.baseAddress, $0.count, &kind, &bits) })
        else { throw .notPEM }
        let problem: ReadError? =
            switch algorithm {
            case .rs256 where Int(kind) != CCRYPTO_KEY_RSA: .wrongType(expected: .rs256)
            case .rs256 where !(2_048...8_192).contains(bits): .weakRSA(bits: Int(bits))
            case .es256 where Int(kind) != CCRYPTO_KEY_EC_P256: .wrongType(expected: .es256)
            default: nil
            }
        if let problem {
            ccrypto_public_key_free(key)
            throw problem
        }
        self.key = key
        self.algorithm = algorithm
    }

    deinit { ccrypto_public_key_free(key) }

    /// The largest signature: RSA's is the key's size, up to 8192 bits.
    static let maxSignatureBytes = 1_024

    func verifies(_ signature: UnsafeRawBufferPointer, of data: UnsafeRawBufferPointer) -> Bool {
        switch algorithm {
        case .rs256:
            ccrypto_verify_rs256(key, data.baseAddress, data.count, signature.baseAddress, signature.count) == 1
        case .es256:
            ccrypto_verify_es256(key, data.baseAddress, data.count, signature.baseAddress, signature.count) == 1
        }
    }
}
