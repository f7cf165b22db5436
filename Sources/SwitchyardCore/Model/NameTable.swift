/// An immutable set of names (gateway ids, methods, merchant ids, ...) that
/// maps the raw bytes of a name, straight from a request body, to its index
/// without building a String: the request path must not allocate.
///
/// Open addressing over a power-of-two table at most half full.
public final class NameTable: @unchecked Sendable {
    // Unchecked: `storage` is written once, in init, and only read after.
    public let names: [String]
    /// Every name's bytes, back to back, in memory the table owns: a request
    /// reads them through a pointer, with no closure and no array access.
    private let storage: UnsafeMutableRawBufferPointer
    /// Per name: where its bytes start in `storage`, and how many (32 bits
    /// each: a million merchant ids cost 8 bytes apiece here, not 16).
    private let spans: [(start: UInt32, count: UInt32)]
    /// Name index + 1, or 0 for an empty slot.
    private let slots: [Int32]
    private let mask: Int

    public init(_ names: [String]) {
        self.names = names
        var bytes: [UInt8] = []
        var spans: [(UInt32, UInt32)] = []
        spans.reserveCapacity(names.count)
        for name in names {
            spans.append((UInt32(bytes.count), UInt32(name.utf8.count)))
            bytes.append(contentsOf: name.utf8)
        }
        var size = 8
        while size < names.count * 2 { size *= 2 }
        var slots = [Int32](repeating: 0, count: size)
        for (index, name) in names.enumerated() {
            var slot = Int(truncatingIfNeeded: Hashing.bytes(name)) & (size - 1)
            while slots[slot] != 0 { slot = (slot + 1) & (size - 1) }
            slots[slot] = Int32(index + 1)
        }
        storage = .allocate(byteCount: max(bytes.count, 1), alignment: 8)
        storage.copyBytes(from: bytes)
        self.spans = spans
        self.slots = slots
        mask = size - 1
    }

    deinit { storage.deallocate() }

    public var count: Int { names.count }

    /// The index of the name spelt by `key`, if it is in the table.
    public func index(of key: UnsafeRawBufferPointer) -> Int? {
        var slot = Int(truncatingIfNeeded: Hashing.bytes(key)) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            if matches(entry - 1, key) { return entry - 1 }
            slot = (slot + 1) & mask
        }
    }

    /// The index of `name` (for configuration and tests, not the request path).
    public func index(of name: String) -> Int? {
        var name = name
        return name.withUTF8 { index(of: UnsafeRawBufferPointer($0)) }
    }

    /// The bytes of name `index`, without building a String. Valid while the
    /// table lives.
    public func bytes(of index: Int) -> UnsafeRawBufferPointer {
        let (start, count) = (Int(spans[index].start), Int(spans[index].count))
        return UnsafeRawBufferPointer(rebasing: storage[start..<start + count])
    }

    private func matches(_ index: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let (start, count) = (Int(spans[index].start), Int(spans[index].count))
        guard count == key.count else { return false }
        guard let stored = storage.baseAddress, let presented = key.baseAddress else { return true }
        return NameTable.equal(stored + start, presented, count)
    }

    /// Byte equality a word at a time (the last word overlapping), for the
    /// short names this table holds.
    @inline(__always)
    private static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
        func word(_ p: UnsafeRawPointer, _ at: Int) -> UInt64 { p.loadUnaligned(fromByteOffset: at, as: UInt64.self) }
        func half(_ p: UnsafeRawPointer, _ at: Int) -> UInt32 { p.loadUnaligned(fromByteOffset: at, as: UInt32.self) }
        if count >= 8 {
            var offset = 0
            while count - offset > 8 {
                if word(a, offset) != word(b, offset) { return false }
                offset += 8
            }
            return word(a, count - 8) == word(b, count - 8)
        }
        if count >= 4 { return half(a, 0) == half(b, 0) && half(a, count - 4) == half(b, count - 4) }
        for i in 0..<count where a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self)
        {
            return false
        }
        return true
    }
}
