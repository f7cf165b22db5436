/// The body of every reply whose status is not OK: one str16 message meant
/// for people and logs. Programs act on the status code, never on the text.
public enum ErrorReply {
    public static func write(_ message: StaticString, to writer: inout BodyWriter) {
        writer.str16(message)
    }

    /// The message of an error body; a body that does not parse gives "".
    public static func message(body: UnsafeRawBufferPointer) -> String {
        var reader = BodyReader(body)
        let text = reader.str16()
        guard !reader.failed else { return "" }
        return text.utf8String ?? ""
    }
}
