public import CRouting

/// Reads typed fields from a frame body in order. Reading past the end sets
/// ``failed`` and yields zeros from then on, so a decoder reads every field
/// and checks once.
public struct BodyReader {
    @usableFromInline var raw: cr_reader

    @inlinable
    public init(_ body: UnsafeRawBufferPointer) {
        let start = body.baseAddress?.assumingMemoryBound(to: UInt8.self)
        raw = cr_reader_make(start, start == nil ? 0 : body.count)
    }

    @inlinable public var failed: Bool { raw.failed != 0 }
    /// True when every byte was consumed and nothing failed.
    @inlinable public var isComplete: Bool { raw.failed == 0 && raw.cursor == raw.end }

    @inlinable public mutating func u8() -> UInt8 { cr_read_u8(&raw) }
    @inlinable public mutating func u16() -> UInt16 { cr_read_u16(&raw) }
    @inlinable public mutating func u32() -> UInt32 { cr_read_u32(&raw) }
    @inlinable public mutating func u64() -> UInt64 { cr_read_u64(&raw) }
    @inlinable public mutating func str8() -> UnsafeRawBufferPointer { Self.view(cr_read_str8(&raw)) }
    @inlinable public mutating func str16() -> UnsafeRawBufferPointer { Self.view(cr_read_str16(&raw)) }
    /// An `addr`: 0 bytes (none), 4 (IPv4) or 16 (IPv6); another family fails the reader.
    @inlinable public mutating func addr() -> UnsafeRawBufferPointer { Self.view(cr_read_addr(&raw)) }
    @inlinable public mutating func rest() -> UnsafeRawBufferPointer { Self.view(cr_read_rest(&raw)) }
    /// Bytes not read yet.
    @inlinable public var remaining: Int { raw.cursor.map { raw.end - $0 } ?? 0 }

    @inlinable
    static func view(_ bytes: cr_bytes) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: bytes.start, count: bytes.count)
    }
}

extension UnsafeRawBufferPointer {
    /// The bytes as a String, or nil when they are not valid UTF-8.
    public var utf8String: String? {
        String(validating: self.bindMemory(to: UInt8.self), as: UTF8.self)
    }
}
