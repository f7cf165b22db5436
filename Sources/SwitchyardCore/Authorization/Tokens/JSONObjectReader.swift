import Foundation

/// Reads the members of one JSON object (a token's header or claims) in
/// place: keys and values are views of the bytes, nothing is allocated, and
/// nested arrays and objects are checked and skipped (16 levels at most).
/// Strict: what RFC 8259 does not allow is malformed, and so is a key given
/// twice among those the caller asks for (see ``TokenVerifier``).
enum JSONObjectReader {
    /// A string's bytes between its quotes, escapes still in them.
    struct Text {
        let raw: UnsafeRawBufferPointer
        let escaped: Bool

        /// Whether the string is exactly `bytes` once its escapes are decoded.
        func equals(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard escaped else { return JSONObjectReader.same(raw, bytes) }
            return withUnsafeTemporaryAllocation(byteCount: 256, alignment: 1) { scratch in
                guard let count = JSONObjectReader.unescape(raw, into: scratch) else { return false }
                return JSONObjectReader.same(UnsafeRawBufferPointer(rebasing: scratch[..<count]), bytes)
            }
        }

        func equals(_ text: [UInt8]) -> Bool { text.withUnsafeBytes { equals($0) } }

        /// For the names the verifier looks for: a literal's bytes, read in place.
        func equals(_ name: StaticString) -> Bool {
            equals(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        }
    }

    enum Value {
        case text(Text)
        case number(UnsafeRawBufferPointer)
        case literal
        /// The array's bytes, brackets included: walk it with ``elements(_:_:)``.
        case array(UnsafeRawBufferPointer)
        case object
    }

    /// Calls `body` with each member of the object that fills `json`
    /// (whitespace around it allowed); false when `json` is not one.
    static func members(_ json: UnsafeRawBufferPointer, _ body: (Text, Value) -> Void) -> Bool {
        var i = skipSpace(json, 0)
        guard i < json.count, json[i] == UInt8(ascii: "{") else { return false }
        i = skipSpace(json, i + 1)
        if i < json.count, json[i] == UInt8(ascii: "}") { return skipSpace(json, i + 1) == json.count }
        while true {
            guard let (key, afterKey) = string(json, i) else { return false }
            i = skipSpace(json, afterKey)
            guard i < json.count, json[i] == UInt8(ascii: ":") else { return false }
            guard let (value, afterValue) = self.value(json, skipSpace(json, i + 1), depth: 0) else { return false }
            body(key, value)
            i = skipSpace(json, afterValue)
            guard i < json.count else { return false }
            if json[i] == UInt8(ascii: "}") { return skipSpace(json, i + 1) == json.count }
            guard json[i] == UInt8(ascii: ",") else { return false }
            i = skipSpace(json, i + 1)
        }
    }

    /// Calls `body` with each element of an array ``Value/array(_:)`` holds.
    static func elements(_ array: UnsafeRawBufferPointer, _ body: (Value) -> Void) {
        var i = skipSpace(array, 1)
        if i < array.count, array[i] == UInt8(ascii: "]") { return }
        while let (element, after) = value(array, i, depth: 1) {
            body(element)
            i = skipSpace(array, after)
            guard i < array.count, array[i] == UInt8(ascii: ",") else { return }
            i = skipSpace(array, i + 1)
        }
    }

    private static let maxDepth = 16

    private static func value(_ json: UnsafeRawBufferPointer, _ start: Int, depth: Int) -> (Value, Int)? {
        guard start < json.count, depth <= maxDepth else { return nil }
        switch json[start] {
        case UInt8(ascii: "\""):
            return string(json, start).map { (.text($0.0), $0.1) }
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = json[start] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            var i = skipSpace(json, start + 1)
            if i < json.count, json[i] == close {
                return (close == UInt8(ascii: "]") ? .array(slice(json, start, i + 1)) : .object, i + 1)
            }
            while true {
                if close == UInt8(ascii: "}") {
                    guard let (_, afterKey) = string(json, i) else { return nil }
                    i = skipSpace(json, afterKey)
                    guard i < json.count, json[i] == UInt8(ascii: ":") else { return nil }
                    i = skipSpace(json, i + 1)
                }
                guard let (_, after) = value(json, i, depth: depth + 1) else { return nil }
                i = skipSpace(json, after)
                guard i < json.count else { return nil }
                if json[i] == close {
                    return (close == UInt8(ascii: "]") ? .array(slice(json, start, i + 1)) : .object, i + 1)
                }
                guard json[i] == UInt8(ascii: ",") else { return nil }
                i = skipSpace(json, i + 1)
            }
        case UInt8(ascii: "t"): return word(json, start, "true")
        case UInt8(ascii: "f"): return word(json, start, "false")
        case UInt8(ascii: "n"): return word(json, start, "null")
        default: return number(json, start)
        }
    }

    private static func word(_ json: UnsafeRawBufferPointer, _ start: Int, _ word: StaticString) -> (Value, Int)? {
        let count = word.utf8CodeUnitCount
        guard start + count <= json.count else { return nil }
        for k in 0..<count where json[start + k] != word.utf8Start[k] { return nil }
        return (.literal, start + count)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private static func number(_ json: UnsafeRawBufferPointer, _ start: Int) -> (Value, Int)? {
        var i = start
        if i < json.count, json[i] == UInt8(ascii: "-") { i += 1 }
        func digits() -> Int {
            let from = i
            while i < json.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(json[i]) { i += 1 }
            return i - from
        }
        let first = i
        let whole = digits()
        guard whole > 0, !(whole > 1 && json[first] == UInt8(ascii: "0")) else { return nil }
        if i < json.count, json[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { return nil }
        }
        if i < json.count, json[i] == UInt8(ascii: "e") || json[i] == UInt8(ascii: "E") {
            i += 1
            if i < json.count, json[i] == UInt8(ascii: "+") || json[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return nil }
        }
        return (.number(slice(json, start, i)), i)
    }

    private static func string(_ json: UnsafeRawBufferPointer, _ start: Int) -> (Text, Int)? {
        guard start < json.count, json[start] == UInt8(ascii: "\""), let base = json.baseAddress else { return nil }
        // Through a typed pointer: the string's bytes are most of what is read.
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        var i = start + 1
        var escaped = false
        while i < json.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "\"") {
                return (Text(raw: slice(json, start + 1, i), escaped: escaped), i + 1)
            }
            guard byte >= 0x20 else { return nil }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                guard i + 1 < json.count else { return nil }
                switch json[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    guard i + 6 <= json.count, hex4(json, i + 2) != nil else { return nil }
                    i += 6
                default: return nil
                }
            } else {
                i += 1
            }
        }
        return nil
    }

    /// Decodes a string's escapes into `output` (UTF-8); nil when it does
    /// not fit or a `\u` escape is a lone surrogate.
    static func unescape(_ raw: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        var i = 0
        var o = 0
        func put(_ byte: UInt8) -> Bool {
            guard o < output.count else { return false }
            output[o] = byte
            o += 1
            return true
        }
        while i < raw.count {
            var byte = raw[i]
            guard byte == UInt8(ascii: "\\") else {
                guard put(byte) else { return nil }
                i += 1
                continue
            }
            let kind = raw[i + 1]
            i += 2
            guard kind == UInt8(ascii: "u") else {
                switch kind {
                case UInt8(ascii: "b"): byte = 0x08
                case UInt8(ascii: "f"): byte = 0x0C
                case UInt8(ascii: "n"): byte = 0x0A
                case UInt8(ascii: "r"): byte = 0x0D
                case UInt8(ascii: "t"): byte = 0x09
                default: byte = kind
                }
                guard put(byte) else { return nil }
                continue
            }
            guard var scalar = hex4(raw, i) else { return nil }
            i += 4
            if (0xD800..<0xDC00).contains(scalar) {
                guard i + 6 <= raw.count, raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u"),
                    let low = hex4(raw, i + 2), (0xDC00..<0xE000).contains(low)
                else { return nil }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                i += 6
            } else if (0xDC00..<0xE000).contains(scalar) {
                return nil
            }
            guard let unicode = Unicode.Scalar(scalar) else { return nil }
            for unit in UTF8.encode(unicode)! { guard put(unit) else { return nil } }
        }
        return o
    }

    private static func hex4(_ bytes: UnsafeRawBufferPointer, _ start: Int) -> UInt32? {
        guard start + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for k in 0..<4 {
            let c = bytes[start + k]
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A")) + 10
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }

    private static func skipSpace(_ json: UnsafeRawBufferPointer, _ start: Int) -> Int {
        var i = start
        while i < json.count, json[i] == 0x20 || json[i] == 0x09 || json[i] == 0x0A || json[i] == 0x0D { i += 1 }
        return i
    }

    private static func slice(_ json: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: json[from..<to])
    }

    static func same(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard a.count > 0, let x = a.baseAddress, let y = b.baseAddress else { return true }
        return memcmp(x, y, a.count) == 0
    }

    /// A JSON number's whole part as seconds (NumericDate, RFC 7519): the
    /// fraction is dropped; nil for an exponent or a value past Int64.
    static func seconds(_ number: UnsafeRawBufferPointer) -> Int64? {
        var value: Int64 = 0
        var i = 0
        let negative = number.first == UInt8(ascii: "-")
        if negative { i = 1 }
        while i < number.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(number[i]) {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (plus, o2) = times.addingReportingOverflow(Int64(number[i] - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = plus
            i += 1
        }
        if i < number.count, number[i] == UInt8(ascii: ".") {
            i += 1
            while i < number.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(number[i]) { i += 1 }
        }
        guard i == number.count else { return nil }
        return negative ? -value : value
    }
}
