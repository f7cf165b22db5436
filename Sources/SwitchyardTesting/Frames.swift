public import SwitchyardWire

/// Builds request frames as plain bytes, including ones no real client would send.
public enum Frames {
    public static func make(
        _ opcode: Opcode, id: UInt32, body: [UInt8] = [], flags: UInt16 = 0, status: UInt16 = 0,
        version: UInt8 = 1, magic: (UInt8, UInt8) = (0x53, 0x59)
    ) -> [UInt8] {
        var bytes: [UInt8] = [magic.0, magic.1, version, opcode.rawValue]
        bytes += le(flags) + le(status) + le(id) + le(UInt32(body.count))
        return bytes + body
    }

    public static func ping(id: UInt32, payload: [UInt8] = []) -> [UInt8] {
        make(.ping, id: id, body: payload)
    }

    /// A frame whose body `write` encodes (ROUTE, REPORT, ...).
    public static func encode(_ opcode: Opcode, id: UInt32, _ write: (inout BodyWriter) -> Void) -> [UInt8] {
        var body = [UInt8](repeating: 0, count: 65_536)
        let count = body.withUnsafeMutableBytes { raw in
            var writer = BodyWriter(raw)
            write(&writer)
            return writer.count
        }
        return make(opcode, id: id, body: Array(body[..<count]))
    }

    public static func route(id: UInt32, _ request: RouteRequest) -> [UInt8] {
        encode(.route, id: id) { request.write(to: &$0) }
    }

    public static func report(id: UInt32, _ request: ReportRequest) -> [UInt8] {
        encode(.report, id: id) { request.write(to: &$0) }
    }

    public static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}
