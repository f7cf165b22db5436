/// Writes whole frames into caller-owned memory: the header, then a body
/// produced field by field, with the body length filled in afterwards.
public enum FrameEncoder {
    /// Encodes one frame at the start of `destination` and returns its length,
    /// or nil when it does not fit (nothing meaningful is left behind then).
    @inlinable
    public static func encode(
        into destination: UnsafeMutableRawBufferPointer,
        header: FrameHeader,
        body: (inout BodyWriter) -> Void
    ) -> Int? {
        guard destination.count >= FrameHeader.size, let base = destination.baseAddress else { return nil }
        var writer = BodyWriter(UnsafeMutableRawBufferPointer(rebasing: destination[FrameHeader.size...]))
        body(&writer)
        guard !writer.failed, writer.count <= UInt32.max else { return nil }
        var header = header
        header.bodyLength = UInt32(writer.count)
        header.encode(to: base)
        return FrameHeader.size + writer.count
    }

    /// Encodes a frame with no body.
    @inlinable
    public static func encode(into destination: UnsafeMutableRawBufferPointer, header: FrameHeader) -> Int? {
        encode(into: destination, header: header) { _ in }
    }
}
