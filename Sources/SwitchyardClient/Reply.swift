public import SwitchyardWire

/// A reply frame with its own copy of the body.
public struct Reply: Hashable, Sendable {
    public let header: FrameHeader
    public let body: [UInt8]

    public init(header: FrameHeader, body: [UInt8]) {
        self.header = header
        self.body = body
    }

    /// The error this reply stands for, or nil when its status is OK.
    public var error: ClientError? {
        guard header.status != .ok else { return nil }
        let message = body.withUnsafeBytes { ErrorReply.message(body: $0) }
        return .server(status: header.status, message: message, closing: header.flags.contains(.close))
    }
}
