internal import CCrypto

/// Bearer tokens a loop has verified, so that a token presented again is
/// not verified again (an RS256 check costs tens of microseconds). One per
/// loop, used by that loop alone: no lock, no atomic.
///
/// An entry is the whole token, the merchant and the operation it was
/// checked for, and the verdict on its scopes; a lookup compares all of
/// them exactly (the token in constant time, so timing does not reveal how
/// much of a remembered token a guess got right), so a hit is a token this
/// verifier has accepted for this very request. An entry lapses when the
/// token does (`exp` plus the clock skew) and when the verifier it came
/// from is replaced by a reload. Only accepted tokens are remembered:
/// whoever fills the cache holds valid tokens already.
///
/// Direct-mapped: the slot is the token's last 8 bytes (the end of its
/// signature, which nobody without the key can choose) mixed with the
/// merchant; a token that lands on a taken slot replaces its occupant.
public final class TokenCache {
    struct Entry {
        var generation: UInt64 = 0
        var expires: Int64 = 0
        var validUntil: Int64 = 0
        var merchant: Int32 = -1
        var tokenCount: UInt16 = 0
        var operationCount: UInt8 = 0
        var permitsOperation = false
    }

    /// Tokens up to this long are remembered (RS256 ones are about 600
    /// bytes, ES256 and HS256 ones about 350); longer ones are verified each time.
    public static let maxTokenBytes = 1_024
    static let maxOperationBytes = 64

    private let entries: UnsafeMutablePointer<Entry>
    private let tokens: UnsafeMutableRawPointer
    private let operations: UnsafeMutableRawPointer
    private let mask: Int

    /// `capacity` is rounded up to a power of two.
    public init(capacity: Int) {
        requestedCapacity = capacity
        var count = 1
        while count < capacity { count <<= 1 }
        mask = count - 1
        entries = .allocate(capacity: count)
        entries.initialize(repeating: Entry(), count: count)
        tokens = .allocate(byteCount: count * Self.maxTokenBytes, alignment: 16)
        operations = .allocate(byteCount: count * Self.maxOperationBytes, alignment: 16)
    }

    deinit {
        entries.deinitialize(count: mask + 1)
        entries.deallocate()
        tokens.deallocate()
        operations.deallocate()
    }

    public var capacity: Int { mask + 1 }
    /// The capacity it was made for (before rounding).
    public let requestedCapacity: Int

    /// The verdict remembered for `token` presented for `merchant` and
    /// `operation`, by the verifier of `generation`, at Unix second `now`;
    /// nil when there is none.
    func lookup(
        _ token: UnsafeRawBufferPointer, merchant: Int, operation: UnsafeRawBufferPointer, generation: UInt64,
        now: Int64
    ) -> TokenVerifier.Verified? {
        guard let slot = slot(token, merchant: merchant, operation: operation) else { return nil }
        let entry = entries[slot]
        guard entry.generation == generation, entry.merchant == Int32(merchant), Int(entry.tokenCount) == token.count,
            Int(entry.operationCount) == operation.count, now < entry.validUntil,
            ccrypto_equal(tokens + slot * Self.maxTokenBytes, token.baseAddress, token.count) == 1,
            operation.count == 0
                || ccrypto_equal(operations + slot * Self.maxOperationBytes, operation.baseAddress, operation.count)
                    == 1
        else { return nil }
        return TokenVerifier.Verified(permitsOperation: entry.permitsOperation, expires: entry.expires)
    }

    /// Remembers `verified`, the verdict of the verifier of `generation`,
    /// until `validUntil` (the token's `exp` plus the clock skew).
    func remember(
        _ token: UnsafeRawBufferPointer, merchant: Int, operation: UnsafeRawBufferPointer, generation: UInt64,
        verified: TokenVerifier.Verified, validUntil: Int64
    ) {
        guard let slot = slot(token, merchant: merchant, operation: operation) else { return }
        (tokens + slot * Self.maxTokenBytes).copyMemory(from: token.baseAddress!, byteCount: token.count)
        if operation.count > 0 {
            (operations + slot * Self.maxOperationBytes).copyMemory(
                from: operation.baseAddress!, byteCount: operation.count)
        }
        entries[slot] = Entry(
            generation: generation, expires: verified.expires, validUntil: validUntil, merchant: Int32(merchant),
            tokenCount: UInt16(token.count), operationCount: UInt8(operation.count),
            permitsOperation: verified.permitsOperation)
    }

    /// Nil for what is never remembered: an empty or oversized token or operation.
    @inline(__always)
    private func slot(_ token: UnsafeRawBufferPointer, merchant: Int, operation: UnsafeRawBufferPointer) -> Int? {
        guard token.count >= 8, token.count <= Self.maxTokenBytes, operation.count <= Self.maxOperationBytes else {
            return nil
        }
        let tail = token.loadUnaligned(fromByteOffset: token.count - 8, as: UInt64.self)
        let mixed = (tail ^ UInt64(truncatingIfNeeded: merchant) &* 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: mixed >> 32) & mask
    }
}
