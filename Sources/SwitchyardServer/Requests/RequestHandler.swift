import SwitchyardCore
import SwitchyardWire

/// Turns complete request frames into reply frames. Pure: bytes in, bytes
/// out, no sockets, so every protocol rule is tested without a network and the
/// event loop stays a thin shell around it.
struct RequestHandler {
    /// The longest reply that does not echo the request (HELLO, errors); a PING
    /// reply is as long as its request.
    static let maxFixedReplyBytes = 1_024

    let settings: ServerSettings
    /// The loop's routing context.
    let routing: LoopRouting
    /// The loop's request counters and latency histograms.
    let metrics: LoopMetrics

    init(settings: ServerSettings, routing: LoopRouting, metrics: LoopMetrics = LoopMetrics()) {
        self.settings = settings
        self.routing = routing
        self.metrics = metrics
    }

    enum Stop: Equatable {
        /// Every complete frame was answered; the rest is a partial frame.
        case needInput
        /// The output has no room for the next reply: flush and call again.
        case needOutputSpace
        /// A fatal error reply was written; close once it is sent.
        case close
        /// The next frame (at `consumed`) is an admin request with the right
        /// token: it is answered off the loop, and this connection's later
        /// frames wait for its reply.
        case admin
    }

    struct Progress: Equatable {
        var consumed = 0
        var produced = 0
        var stop = Stop.needInput
    }

    /// Answers as many complete frames at the front of `input` as `output` has room for.
    func process(input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) -> Progress {
        var progress = Progress()
        // Read once per batch: each read of the loop's variable would be a
        // retain and a release, where fields of this constant cost none.
        let publication = routing.publication
        while true {
            let rest = UnsafeRawBufferPointer(rebasing: input[progress.consumed...])
            switch FrameHeader.parse(rest, maxBodyLength: settings.maxBodyBytes) {
            case .needMore:
                progress.stop = .needInput
                return progress
            case .fatal(let status, let header):
                guard output.count - progress.produced >= RequestHandler.maxFixedReplyBytes else {
                    progress.stop = .needOutputSpace
                    return progress
                }
                let echo = header ?? FrameHeader(opcode: .none, requestID: 0)
                let start = progress.produced
                progress.produced += writeError(
                    status, for: echo, close: true, into: slice(output, from: progress.produced))
                metrics.count(echo.opcode, reply: output.baseAddress! + start)
                progress.consumed = input.count
                progress.stop = .close
                return progress
            case .header(let header):
                guard rest.count >= header.frameLength else {
                    progress.stop = .needInput
                    return progress
                }
                guard output.count - progress.produced >= replyRoom(for: header, publication) else {
                    progress.stop = .needOutputSpace
                    return progress
                }
                let body = UnsafeRawBufferPointer(rebasing: rest[FrameHeader.size..<header.frameLength])
                if header.opcode.isAdmin && header.flags.isEmpty && header.status == .ok {
                    guard let refusal = admit(header, body, into: slice(output, from: progress.produced)) else {
                        progress.stop = .admin
                        return progress
                    }
                    metrics.count(header.opcode, reply: output.baseAddress! + progress.produced)
                    progress.produced += refusal
                    progress.consumed += header.frameLength
                    continue
                }
                let start = progress.produced
                progress.produced += answer(
                    header, body: body, into: slice(output, from: progress.produced), publication)
                metrics.count(header.opcode, reply: output.baseAddress! + start)
                progress.consumed += header.frameLength
            }
        }
    }

    /// What every decision operation starts with: a body that matches the
    /// operation's layout; otherwise the error reply. `handle` answers the rest.
    func withRequest<View>(
        _ request: FrameHeader, _ body: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer,
        parse: (UnsafeRawBufferPointer) -> View?, layout: StaticString, _ handle: (View) -> Int
    ) -> Int {
        guard let view = parse(body) else {
            return writeError(.malformedBody, for: request, close: false, into: output, layout)
        }
        return handle(view)
    }

    /// The output space a request's reply may need.
    private func replyRoom(for header: FrameHeader, _ publication: RoutingService.Publication) -> Int {
        var room = max(header.frameLength, RequestHandler.maxFixedReplyBytes)
        if header.opcode == .route || header.opcode == .decide {
            room = max(room, AuthorizeReply.size + publication.routeReplyBound)
        }
        return room
    }

    /// Writes the reply to one complete request and returns its length.
    private func answer(
        _ request: FrameHeader, body: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
        _ publication: RoutingService.Publication
    ) -> Int {
        guard request.flags.isEmpty, request.status == .ok else {
            return writeError(
                .invalidHeader, for: request, close: false, into: output,
                "requests carry no flags and status 0")
        }
        switch request.opcode {
        case .ping:
            return FrameEncoder.encode(into: output, header: replyHeader(for: request)) { $0.raw(body) }!
        case .hello:
            return hello(request, body: body, into: output)
        case .authorize:
            return authorize(request, body: body, into: output, publication)
        case .route:
            return route(request, body: body, into: output, publication)
        case .decide:
            return decide(request, body: body, into: output, publication)
        case .report:
            return report(request, body: body, into: output, publication)
        default:
            return writeError(.unknownOpcode, for: request, close: false, into: output, "unknown opcode")
        }
    }

    private func hello(_ request: FrameHeader, body: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer)
        -> Int
    {
        guard let hello = Hello(body: body) else {
            return writeError(
                .malformedBody, for: request, close: false, into: output,
                "HELLO body is u8 min_version, u8 max_version, u32 features, str8 client_name")
        }
        guard hello.minVersion <= FrameHeader.version, FrameHeader.version <= hello.maxVersion else {
            return writeError(
                .unsupportedVersion, for: request, close: false, into: output,
                "this server speaks protocol version 1 only")
        }
        let reply = HelloReply(
            version: FrameHeader.version,
            features: hello.features.intersection(RequestHandler.supportedFeatures),
            maxBodyBytes: settings.maxBodyBytes,
            serverName: ServerSettings.serverName,
            serverVersion: ServerSettings.serverVersion,
            instanceID: settings.instanceID
        )
        return FrameEncoder.encode(into: output, header: replyHeader(for: request)) { reply.write(to: &$0) }!
    }

    static let supportedFeatures: Features = [.authorize, .route, .decide, .report, .admin]

    func replyHeader(for request: FrameHeader) -> FrameHeader {
        FrameHeader(opcode: request.opcode, flags: .reply, requestID: request.requestID)
    }

    /// Checks an admin request's token on the loop (one SHA-256 of a short
    /// string), so that a request without the right token never leaves it.
    /// Returns nil to hand the request over, or the length of the refusal written.
    private func admit(
        _ request: FrameHeader, _ body: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    )
        -> Int?
    {
        guard let token = AdminRequest.token(in: body) else {
            return writeError(
                .malformedBody, for: request, close: false, into: output, "admin requests start with str16 admin_token")
        }
        guard let expected = settings.adminToken else {
            return writeError(
                .adminDisabled, for: request, close: false, into: output,
                "admin operations are off: server.admin_token_hash is not configured")
        }
        guard expected.admits(token) else {
            return writeError(.adminTokenRejected, for: request, close: false, into: output, "wrong admin token")
        }
        return nil
    }

    private func slice(_ output: UnsafeMutableRawBufferPointer, from offset: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: output[offset...])
    }
}

/// Error replies, shared by the request handler and the loop's connection notices.
func writeError(
    _ status: Status, for request: FrameHeader, close: Bool, into output: UnsafeMutableRawBufferPointer,
    _ message: StaticString? = nil
) -> Int {
    let header = FrameHeader(
        opcode: request.opcode, flags: close ? [.reply, .close] : .reply, status: status,
        requestID: request.requestID)
    let text = message ?? defaultMessage(status)
    // Every caller reserves RequestHandler.maxFixedReplyBytes, which any error fits.
    return FrameEncoder.encode(into: output, header: header) { ErrorReply.write(text, to: &$0) }!
}

private func defaultMessage(_ status: Status) -> StaticString {
    switch status {
    case .badMagic: "not a Switchyard frame: the first two bytes must be 'S' 'Y'"
    case .unsupportedVersion: "unsupported protocol version: this server speaks version 1"
    case .frameTooLarge: "frame body larger than the server's max_body_bytes"
    case .tooManyConnections: "too many connections"
    case .idleTimeout: "connection closed after the idle timeout"
    case .frameTimeout: "connection closed: a frame was not completed in time"
    case .shuttingDown: "server shutting down"
    default: "error"
    }
}
