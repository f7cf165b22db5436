/// AUTHORIZE request, owned (what a client builds).
public struct AuthorizeRequest: Hashable, Sendable {
    public var merchantID: String
    /// 1: API key (the only kind served).
    public var credentialKind: UInt8
    public var credential: String
    /// 0 bytes (none), 4 (IPv4) or 16 (IPv6), network order.
    public var clientAddress: [UInt8]
    public var cost: UInt32
    /// The operation the request is for (`payments:create`, ...), checked
    /// against the key's scopes; sent only when given.
    public var operation: String?
    /// The caller's W3C `traceparent`, for the audit log; sent only when given.
    public var traceparent: String?

    public init(
        merchantID: String, credential: String, clientAddress: [UInt8] = [], cost: UInt32 = 1,
        credentialKind: UInt8 = 1,
        operation: String? = nil, traceparent: String? = nil
    ) {
        self.merchantID = merchantID
        self.credentialKind = credentialKind
        self.credential = credential
        self.clientAddress = clientAddress
        self.cost = cost
        self.operation = operation
        self.traceparent = traceparent
    }

    public func write(to writer: inout BodyWriter) {
        writeFields(to: &writer)
        RequestExtensions.write(labels: [:], operation: operation, traceparent: traceparent, to: &writer)
    }

    /// The fields before the extensions (DECIDE's ROUTE fields follow them).
    func writeFields(to writer: inout BodyWriter) {
        writer.str8(merchantID)
        writer.u8(credentialKind)
        writer.str16(credential)
        writer.addr(clientAddress)
        writer.u32(cost)
    }
}

/// AUTHORIZE request as the server reads it: views into the frame body.
public struct AuthorizeRequestView {
    public let merchantID: UnsafeRawBufferPointer
    public let credentialKind: UInt8
    public let credential: UnsafeRawBufferPointer
    public let clientAddress: UnsafeRawBufferPointer
    public let cost: UInt32
    /// The optional fields after `cost` (the operation). A DECIDE carries
    /// its extensions after the ROUTE fields instead.
    public private(set) var extensions: RequestExtensions

    public static let layout: StaticString =
        "AUTHORIZE body is str8 merchant_id, u8 credential_kind, str16 credential, addr client_address, u32 cost, then optional extensions (u8 tag, str16 content): operation (tag 2) is 1 to 64 bytes"

    public init?(body: UnsafeRawBufferPointer) {
        var reader = BodyReader(body)
        self.init(reading: &reader)
        guard !reader.failed, let extensions = RequestExtensions(reader.rest()) else { return nil }
        self.extensions = extensions
    }

    /// Reads the fields from `reader` (DECIDE continues after them).
    init(reading reader: inout BodyReader) {
        merchantID = reader.str8()
        credentialKind = reader.u8()
        credential = reader.str16()
        clientAddress = reader.addr()
        cost = reader.u32()
        extensions = .none
    }
}

/// AUTHORIZE reply: allow or deny, why, and the deciding limit's state.
public struct AuthorizeReply: Hashable, Sendable {
    public var allowed: Bool
    public var reason: UInt16
    public var limit: UInt32
    public var remaining: UInt32
    public var retryAfterMilliseconds: UInt32
    public var resetAfterMilliseconds: UInt32

    public init(
        allowed: Bool, reason: UInt16, limit: UInt32, remaining: UInt32, retryAfterMilliseconds: UInt32,
        resetAfterMilliseconds: UInt32
    ) {
        self.allowed = allowed
        self.reason = reason
        self.limit = limit
        self.remaining = remaining
        self.retryAfterMilliseconds = retryAfterMilliseconds
        self.resetAfterMilliseconds = resetAfterMilliseconds
    }

    /// Bytes of the reply's fields (DECIDE's ROUTE part follows them).
    public static let size = 19

    public func write(to writer: inout BodyWriter) {
        writer.u8(allowed ? 1 : 0)
        writer.u16(reason)
        writer.u32(limit)
        writer.u32(remaining)
        writer.u32(retryAfterMilliseconds)
        writer.u32(resetAfterMilliseconds)
    }

    /// Decodes a reply; trailing bytes are ignored (later versions may add fields).
    public init?(body: UnsafeRawBufferPointer) {
        var reader = BodyReader(body)
        allowed = reader.u8() == 1
        reason = reader.u16()
        limit = reader.u32()
        remaining = reader.u32()
        retryAfterMilliseconds = reader.u32()
        resetAfterMilliseconds = reader.u32()
        guard !reader.failed else { return nil }
    }
}
