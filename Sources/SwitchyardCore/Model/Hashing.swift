/// The two non-cryptographic hashes the request path uses, in one place: a
/// hash of bytes (name tables, the report ledger, client addresses) and
/// MurmurHash3's 64-bit finaliser to spread a combined key over table slots.
enum Hashing {
    static let seed: UInt64 = 0xCBF2_9CE4_8422_2325
    private static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// Eight bytes at a time, the last 1 to 8 with overlapping loads, then
    /// finalised: the names and ids on the request path are 3 to 64 bytes,
    /// where a byte-at-a-time loop (FNV-1a, used before) cost a multiply per byte.
    static func bytes(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = seed) -> UInt64 {
        let count = bytes.count
        var hash = seed ^ UInt64(truncatingIfNeeded: count) &* multiplier
        guard let base = bytes.baseAddress, count > 0 else { return finalize(hash) }
        var offset = 0
        while count - offset > 8 {
            hash = (hash ^ base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* multiplier
            hash ^= hash >> 32
            offset += 8
        }
        // The last 1 to 8 bytes, every one of them read at least once.
        let rest = count - offset
        let tail: UInt64
        if rest >= 4 {
            tail =
                UInt64(base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                | UInt64(base.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)) << 32
        } else {
            tail =
                UInt64(base.load(fromByteOffset: offset, as: UInt8.self))
                | UInt64(base.load(fromByteOffset: offset + rest / 2, as: UInt8.self)) << 8
                | UInt64(base.load(fromByteOffset: count - 1, as: UInt8.self)) << 16
        }
        return finalize((hash ^ tail) &* multiplier)
    }

    static func bytes(_ text: String) -> UInt64 {
        var text = text
        return text.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    /// Every input bit affects every output bit.
    static func finalize(_ key: UInt64) -> UInt64 {
        var key = key
        key ^= key >> 33
        key &*= 0xFF51_AFD7_ED55_8CCD
        key ^= key >> 33
        key &*= 0xC4CE_B9FE_1A85_EC53
        return key ^ key >> 33
    }
}
