public import CRouting

/// The fixed 16-byte header that starts every frame, in both directions.
public struct FrameHeader: Hashable, Sendable {
    public static let size = Int(CR_HEADER_SIZE)
    public static let version = UInt8(CR_VERSION)

    public var opcode: Opcode
    public var flags: Flags
    public var status: Status
    public var requestID: UInt32
    public var bodyLength: UInt32

    public init(opcode: Opcode, flags: Flags = [], status: Status = .ok, requestID: UInt32, bodyLength: UInt32 = 0) {
        self.opcode = opcode
        self.flags = flags
        self.status = status
        self.requestID = requestID
        self.bodyLength = bodyLength
    }

    @inlinable
    init(_ raw: cr_header) {
        self.opcode = Opcode(rawValue: raw.opcode)
        self.flags = Flags(rawValue: raw.flags)
        self.status = Status(rawValue: raw.status)
        self.requestID = raw.request_id
        self.bodyLength = raw.body_length
    }

    /// Header plus body, in bytes.
    @inlinable
    public var frameLength: Int { FrameHeader.size + Int(bodyLength) }

    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }

        /// Set on every frame the server sends.
        public static let reply = Flags(rawValue: UInt16(CR_FLAG_REPLY))
        /// The server closes the connection after this frame.
        public static let close = Flags(rawValue: UInt16(CR_FLAG_CLOSE))
    }

    /// Writes the header's 16 bytes at `destination`.
    @inlinable
    public func encode(to destination: UnsafeMutableRawPointer) {
        var raw = cr_header(
            version: FrameHeader.version, opcode: opcode.rawValue, flags: flags.rawValue,
            status: status.rawValue, request_id: requestID, body_length: bodyLength
        )
        cr_encode_header(destination.assumingMemoryBound(to: UInt8.self), &raw)
    }
}

/// What the bytes at the front of a buffer hold.
public enum FrameParseResult: Equatable, Sendable {
    /// A header; the frame is complete once `header.frameLength` bytes are buffered.
    case header(FrameHeader)
    /// Too few bytes to tell; read more.
    case needMore
    /// The stream cannot be trusted past this point: reply with this status and
    /// close. The header is there when it could be read (a body over the limit).
    case fatal(Status, FrameHeader?)
}

extension FrameHeader {
    /// Parses the header at the start of `bytes`, refusing bodies over `maxBodyLength`.
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxBodyLength: UInt32) -> FrameParseResult {
        guard let base = bytes.baseAddress else { return .needMore }
        var raw = cr_header()
        switch cr_parse_header(base.assumingMemoryBound(to: UInt8.self), bytes.count, maxBodyLength, &raw) {
        case CR_PARSE_OK: return .header(FrameHeader(raw))
        case CR_PARSE_NEED_MORE: return .needMore
        case CR_PARSE_BAD_MAGIC: return .fatal(.badMagic, nil)
        case CR_PARSE_BAD_VERSION: return .fatal(.unsupportedVersion, nil)
        default: return .fatal(.frameTooLarge, FrameHeader(raw))
        }
    }
}
