/// The two non-cryptographic hashes the request path uses, in one place:
/// FNV-1a over bytes (name tables, the report ledger, client addresses) and
/// MurmurHash3's 64-bit finaliser to spread a combined key over table slots.
enum Hashing {
    static let fnvOffset: UInt64 = 0xCBF2_9CE4_8422_2325

    static func fnv1a(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = fnvOffset) -> UInt64 {
        var hash = seed
        for i in 0..<bytes.count { hash = (hash ^ UInt64(bytes[i])) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var text = text
        return text.withUTF8 { fnv1a(UnsafeRawBufferPointer($0)) }
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
