// libFuzzer harness for the whole request-decoding path (compiled with
// SwitchyardWire's sources by scripts/fuzz): any bytes as a frame, its body
// read by the view of its opcode as the event loop reads it, then by every
// other view too, and each view's extensions, labels and tried list walked.
// Under AddressSanitizer a read past the input is a crash; the checks are
// the decoders' promises (a refusal is nil, never a trap).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    guard case .header(let header) = FrameHeader.parse(input, maxBodyLength: 16_384) else { return 0 }
    // The body in memory of its own size, so a read past it is caught.
    let count = min(Int(header.bodyLength), size - FrameHeader.size)
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 1)
    defer { copy.deallocate() }
    copy.copyMemory(from: UnsafeRawBufferPointer(rebasing: input[FrameHeader.size..<FrameHeader.size + count]))
    let body = UnsafeRawBufferPointer(rebasing: copy[..<count])

    func walk(_ extensions: RequestExtensions) {
        var seen = 0
        extensions.forEachLabel { key, value in
            precondition(!key.isEmpty && key.count <= RequestExtensions.maxLabelKey)
            precondition(value.count <= RequestExtensions.maxLabelValue)
            seen += 1
        }
        precondition(seen == extensions.labelCount && seen <= RequestExtensions.maxLabels)
        precondition(extensions.operation.count <= RequestExtensions.maxOperation)
        precondition(extensions.traceID.isEmpty || extensions.traceID.count == 32)
    }
    if let view = AuthorizeRequestView(body: body) { walk(view.extensions) }
    if let view = RouteRequestView(body: body) {
        var tried = 0
        view.forEachTried { _ in tried += 1 }
        precondition(tried == view.triedCount)
        walk(view.extensions)
    }
    if let view = DecideRequestView(body: body) {
        walk(view.authorize.extensions)
        walk(view.route.extensions)
    }
    _ = ReportRequestView(body: body)
    _ = Hello(body: body)
    _ = AdminRequest.token(in: body)
    _ = try? AdminRequest(opcode: header.opcode, body: body)
    // The replies a client decodes, from a server it may not trust.
    _ = AuthorizeReply(body: body)
    _ = RouteReply(body: body)
    _ = DecideReply(body: body)
    _ = HelloReply(body: body)
    return 0
}
