/// Base64url without padding, as JSON Web Tokens encode their three parts
/// (RFC 7515, section 2), decoded into the caller's buffer.
enum Base64URL {
    /// Decodes `text` into `output`; the number of bytes written, or nil when
    /// `text` is not canonical base64url without padding or does not fit.
    static func decode(_ text: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        let count = text.count
        guard count % 4 != 1 else { return nil }
        let size = count / 4 * 3 + (count % 4 == 0 ? 0 : count % 4 - 1)
        guard size <= output.count else { return nil }
        var bits: UInt32 = 0
        var held = 0
        var written = 0
        for i in 0..<count {
            guard let value = sextet(text[i]) else { return nil }
            bits = bits &<< 6 | value
            held += 6
            if held >= 8 {
                held -= 8
                output[written] = UInt8(truncatingIfNeeded: bits >> UInt32(held))
                written += 1
                bits &= (1 << UInt32(held)) - 1
            }
        }
        // The bits past the last byte must be zero: another spelling of the
        // same bytes would be a second token with the same signature.
        return bits == 0 ? written : nil
    }

    @inline(__always)
    private static func sextet(_ character: UInt8) -> UInt32? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(character - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(character - UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(character - UInt8(ascii: "0")) + 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}
