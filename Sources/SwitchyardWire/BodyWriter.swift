public import CRouting

/// Appends typed fields to a frame body. Writing past capacity, or a string
/// too long for its length prefix, sets ``failed`` instead of truncating.
public struct BodyWriter {
    @usableFromInline var raw: cr_writer
    @usableFromInline let start: UnsafeMutablePointer<UInt8>?

    @inlinable
    public init(_ destination: UnsafeMutableRawBufferPointer) {
        start = destination.baseAddress?.assumingMemoryBound(to: UInt8.self)
        raw = cr_writer_make(start, start == nil ? 0 : destination.count)
    }

    @inlinable public var failed: Bool { raw.failed != 0 }
    /// Bytes written so far.
    @inlinable public var count: Int { start.map { raw.cursor - $0 } ?? 0 }

    @inlinable public mutating func u8(_ v: UInt8) { cr_write_u8(&raw, v) }
    @inlinable public mutating func u16(_ v: UInt16) { cr_write_u16(&raw, v) }
    @inlinable public mutating func u32(_ v: UInt32) { cr_write_u32(&raw, v) }
    @inlinable public mutating func u64(_ v: UInt64) { cr_write_u64(&raw, v) }

    @inlinable
    public mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        cr_write_raw(&raw, bytes.baseAddress, bytes.count)
    }

    @inlinable
    public mutating func str8(_ bytes: UnsafeRawBufferPointer) {
        cr_write_str8(&raw, bytes.baseAddress, bytes.count)
    }

    @inlinable
    public mutating func str16(_ bytes: UnsafeRawBufferPointer) {
        cr_write_str16(&raw, bytes.baseAddress, bytes.count)
    }

    /// Writes a static text without touching the heap.
    @inlinable
    public mutating func str16(_ text: StaticString) {
        cr_write_str16(&raw, text.utf8Start, text.utf8CodeUnitCount)
    }

    /// An `addr` of 0, 4 or 16 bytes; another length fails the writer.
    public mutating func addr(_ bytes: [UInt8]) {
        switch bytes.count {
        case 0: u8(0)
        case 4: u8(4)
        case 16: u8(6)
        default:
            cr_write_raw(&raw, nil, Int.max)
            return
        }
        bytes.withUnsafeBytes { raw($0) }
    }

    public mutating func str8(_ text: String) {
        var text = text
        text.withUTF8 { str8(UnsafeRawBufferPointer($0)) }
    }

    public mutating func str16(_ text: String) {
        var text = text
        text.withUTF8 { str16(UnsafeRawBufferPointer($0)) }
    }
}
