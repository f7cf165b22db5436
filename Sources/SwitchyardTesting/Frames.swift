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

    public static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}
