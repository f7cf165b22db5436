/// HELLO request: the protocol versions the client speaks and the features it
/// wants. Optional; a client that skips it speaks version 1 with no features.
public struct Hello: Hashable, Sendable {
    public var minVersion: UInt8
    public var maxVersion: UInt8
    public var features: Features
    public var clientName: String

    public init(minVersion: UInt8 = 1, maxVersion: UInt8 = 1, features: Features = .all, clientName: String) {
        self.minVersion = minVersion
        self.maxVersion = maxVersion
        self.features = features
        self.clientName = clientName
    }

    public func write(to writer: inout BodyWriter) {
        writer.u8(minVersion)
        writer.u8(maxVersion)
        writer.u32(features.rawValue)
        writer.str8(clientName)
    }

    /// Decodes a HELLO body; nil when its fields do not match the layout.
    public init?(body: UnsafeRawBufferPointer) {
        var reader = BodyReader(body)
        minVersion = reader.u8()
        maxVersion = reader.u8()
        features = Features(rawValue: reader.u32())
        let name = reader.str8()
        guard reader.isComplete, let clientName = name.utf8String else { return nil }
        self.clientName = clientName
    }
}

/// HELLO reply: the version chosen, the features granted and the server's
/// limits and identity.
public struct HelloReply: Hashable, Sendable {
    public var version: UInt8
    public var features: Features
    public var maxBodyBytes: UInt32
    public var serverName: String
    public var serverVersion: String
    public var instanceID: String

    public init(
        version: UInt8, features: Features, maxBodyBytes: UInt32,
        serverName: String, serverVersion: String, instanceID: String
    ) {
        self.version = version
        self.features = features
        self.maxBodyBytes = maxBodyBytes
        self.serverName = serverName
        self.serverVersion = serverVersion
        self.instanceID = instanceID
    }

    public func write(to writer: inout BodyWriter) {
        writer.u8(version)
        writer.u32(features.rawValue)
        writer.u32(maxBodyBytes)
        writer.str8(serverName)
        writer.str8(serverVersion)
        writer.str8(instanceID)
    }

    /// Decodes a HELLO reply. Trailing bytes are ignored: later versions may
    /// append fields to replies.
    public init?(body: UnsafeRawBufferPointer) {
        var reader = BodyReader(body)
        version = reader.u8()
        features = Features(rawValue: reader.u32())
        maxBodyBytes = reader.u32()
        let name = reader.str8(), serverVersion = reader.str8(), instance = reader.str8()
        guard !reader.failed, let n = name.utf8String, let v = serverVersion.utf8String,
            let i = instance.utf8String
        else { return nil }
        (self.serverName, self.serverVersion, self.instanceID) = (n, v, i)
    }
}
