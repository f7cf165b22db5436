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
        guard count > 0, let source = text.baseAddress, let target = output.baseAddress else { return 0 }
        return sextets.withUnsafeBufferPointer { table -> Int? in
            let input = source.assumingMemoryBound(to: UInt8.self)
            let out = target.assumingMemoryBound(to: UInt8.self)
            // Four characters make three bytes; a value of 64 or more marks
            // a character outside the alphabet.
            var i = 0
            var o = 0
            var invalid: UInt32 = 0
            while i + 4 <= count {
                let a = UInt32(table[Int(input[i])]), b = UInt32(table[Int(input[i + 1])])
                let c = UInt32(table[Int(input[i + 2])]), d = UInt32(table[Int(input[i + 3])])
                invalid |= a | b | c | d
                let bits = a << 18 | b << 12 | c << 6 | d
                out[o] = UInt8(truncatingIfNeeded: bits >> 16)
                out[o + 1] = UInt8(truncatingIfNeeded: bits >> 8)
                out[o + 2] = UInt8(truncatingIfNeeded: bits)
                i += 4
                o += 3
            }
            var tail: UInt32 = 0
            let left = count - i
            for k in 0..<left {
                let value = UInt32(table[Int(input[i + k])])
                invalid |= value
                tail = tail << 6 | value
            }
            guard invalid & 0xC0 == 0 else { return nil }
            // The bits past the last byte must be zero: another spelling of
            // the same bytes would be a second token with the same signature.
            switch left {
            case 2:
                guard tail & 0xF == 0 else { return nil }
                out[o] = UInt8(truncatingIfNeeded: tail >> 4)
                o += 1
            case 3:
                guard tail & 0x3 == 0 else { return nil }
                out[o] = UInt8(truncatingIfNeeded: tail >> 10)
                out[o + 1] = UInt8(truncatingIfNeeded: tail >> 2)
                o += 2
            default: break
            }
            return o
        }
    }

    /// Each byte's value in the alphabet, 0xFF for the others.
    private static let sextets: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        for (value, character) in alphabet.enumerated() { table[Int(character)] = UInt8(value) }
        return table
    }()
}
