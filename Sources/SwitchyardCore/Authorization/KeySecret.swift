import Foundation

/// Where the server secret for API key hashes comes from: never the
/// configuration file (which is copied, diffed and reviewed), but a file of
/// its own or the environment.
///
/// - `SWITCHYARD_KEY_SECRET_FILE`: a file whose bytes are the secret (one
///   trailing newline is ignored), readable by the daemon's user only;
/// - `SWITCHYARD_KEY_SECRET`: the secret as hex digits.
///
/// At least 32 bytes either way. The file wins when both are set.
public enum KeySecret {
    public static let fileVariable = "SWITCHYARD_KEY_SECRET_FILE"
    public static let hexVariable = "SWITCHYARD_KEY_SECRET"

    public struct LoadError: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    public static func load(environment: [String: String]) throws(LoadError) -> [UInt8] {
        var secret: [UInt8]
        if let path = environment[fileVariable] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw LoadError(description: "\(fileVariable): cannot read \(path)")
            }
            secret = Array(data)
            if secret.last == 0x0A { secret.removeLast() }
        } else if let hex = environment[hexVariable] {
            guard let decoded = decode(hex: hex) else {
                throw LoadError(description: "\(hexVariable): expected hex digits (an even number of 0-9, a-f)")
            }
            secret = decoded
        } else {
            throw LoadError(description: "no key secret: set \(fileVariable) (a file) or \(hexVariable) (hex)")
        }
        guard secret.count >= KeyHasher.minimumSecretBytes else {
            throw LoadError(
                description:
                    "the key secret has \(secret.count) bytes; at least \(KeyHasher.minimumSecretBytes) are needed")
        }
        return secret
    }

    static func decode(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0, !digits.isEmpty else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
