import Glibc

/// An address block, IPv4 (`203.0.113.0/24`) or IPv6 (`2001:db8::/32`), for
/// client allowlists. Addresses are kept as 16 bytes (IPv4 in the first 4).
public struct CIDR: Equatable, Sendable, CustomStringConvertible {
    public let isIPv6: Bool
    let bytes: [UInt8]
    public let prefixLength: Int
    public let description: String

    /// Parses `address/length` (a bare address means its full length); nil
    /// when either part is invalid or the address has bits set past the prefix.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return nil }
        let address = String(parts[0])
        var storage = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, address, &storage) == 1 {
            isIPv6 = false
        } else if inet_pton(AF_INET6, address, &storage) == 1 {
            isIPv6 = true
        } else {
            return nil
        }
        let maximum = isIPv6 ? 128 : 32
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...maximum).contains(length), parts[1].allSatisfy(\.isNumber) else {
                return nil
            }
            prefixLength = length
        } else {
            prefixLength = maximum
        }
        bytes = storage
        description = text
        // Host bits set past the prefix are almost always a typo for another block.
        guard CIDR.masked(storage, prefixLength) == storage else { return nil }
    }

    /// Whether `address` (4 or 16 bytes, network order) lies in the block.
    public func contains(_ address: UnsafeRawBufferPointer) -> Bool {
        guard address.count == (isIPv6 ? 16 : 4) else { return false }
        var full = 0
        while full < prefixLength / 8 {
            if address[full] != bytes[full] { return false }
            full += 1
        }
        let rest = prefixLength % 8
        guard rest > 0 else { return true }
        let mask = UInt8(0xFF) << (8 - rest)
        return address[full] & mask == bytes[full] & mask
    }

    private static func masked(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let keep = min(max(length - index * 8, 0), 8)
            return keep == 8 ? byte : byte & (keep == 0 ? 0 : UInt8(0xFF) << (8 - keep))
        }
    }
}
