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
        var writer = bodyWriter(in: destination)
        body(&writer)
        return finish(writer, header: header, in: destination)
    }

    /// The writer for the body of a frame at the start of `destination`;
    /// ``finish(_:header:in:)`` then writes the header. For hot paths where a
    /// closure's captures would cost a retain and a release each.
    @inlinable
    public static func bodyWriter(in destination: UnsafeMutableRawBufferPointer) -> BodyWriter {
        guard destination.count >= FrameHeader.size else {
            return BodyWriter(UnsafeMutableRawBufferPointer(start: nil, count: 0))
        }
        return BodyWriter(UnsafeMutableRawBufferPointer(rebasing: destination[FrameHeader.size...]))
    }

    /// Writes the header of the frame whose body `writer` wrote and returns
    /// the frame's length, or nil when the body did not fit.
    @inlinable
    public static func finish(_ writer: BodyWriter, header: FrameHeader, in destination: UnsafeMutableRawBufferPointer)
        -> Int?
    {
        guard destination.count >= FrameHeader.size, let base = destination.baseAddress, !writer.failed,
            writer.count <= UInt32.max
        else { return nil }
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
