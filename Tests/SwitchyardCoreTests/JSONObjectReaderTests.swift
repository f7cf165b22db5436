import Testing

@testable import SwitchyardCore

/// The in-place JSON reader tokens are read with: what it takes, what it
/// refuses, and escapes.
@Suite struct JSONObjectReaderTests {
    static func members(_ json: String) -> [String]? {
        var found: [String] = []
        let ok = Array(json.utf8).withUnsafeBytes { bytes in
            JSONObjectReader.members(bytes) { key, value in
                let kind: String
                switch value {
                case .text(let text): kind = "text(\(String(decoding: text.raw, as: UTF8.self)))"
                case .number(let number): kind = "number(\(String(decoding: number, as: UTF8.self)))"
                case .literal: kind = "literal"
                case .array: kind = "array"
                case .object: kind = "object"
                }
                found.append("\(String(decoding: key.raw, as: UTF8.self))=\(kind)")
            }
        }
        return ok ? found : nil
    }

    @Test func wellFormedObjectsAreRead() {
        #expect(Self.members("{}") == [])
        #expect(
            Self.members(#" { "a" : 1.5e3, "b":[1,{"c":[true,null]}], "d":{"e":"}"}, "f":false, "g":"x\"y" } "#)
                == ["a=number(1.5e3)", "b=array", "d=object", "f=literal", #"g=text(x\"y)"#])
    }

    @Test(arguments: [
        "", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":tru}",
        "{\"a\":\"\\q\"}",
        "{\"a\":\"\u{01}\"}", "{a:1}", "{\"a\":1} x", "{\"a\":[1,2}", String(repeating: "[", count: 20),
        "{\"a\":" + String(repeating: "[", count: 20) + String(repeating: "]", count: 20) + "}",
    ])
    func malformedObjectsAreRefused(_ json: String) {
        #expect(Self.members(json) == nil, "\(json)")
    }

    @Test func escapesAreDecodedForComparison() {
        let json = Array(#"{"k":"caf\u00e9 \ud83d\ude00 a\/b"}"#.utf8)
        json.withUnsafeBytes { bytes in
            _ = JSONObjectReader.members(bytes) { _, value in
                guard case .text(let text) = value else {
                    Issue.record("not text")
                    return
                }
                #expect(text.escaped)
                #expect(text.equals(Array("café 😀 a/b".utf8)))
                #expect(!text.equals(Array("cafe".utf8)))
            }
        }
        #expect(JSONObjectReader.seconds(UnsafeRawBufferPointer(start: nil, count: 0)) == 0)
        for (number, seconds) in [("1800000000", Int64(1_800_000_000)), ("17.9", 17), ("-5", -5)] {
            #expect(Array(number.utf8).withUnsafeBytes { JSONObjectReader.seconds($0) } == seconds)
        }
        #expect(Array("1e9".utf8).withUnsafeBytes { JSONObjectReader.seconds($0) } == nil)
        #expect(Array("99999999999999999999".utf8).withUnsafeBytes { JSONObjectReader.seconds($0) } == nil)
    }

    @Test func base64urlIsStrict() {
        func decode(_ text: String) -> [UInt8]? {
            var output = [UInt8](repeating: 0, count: 16)
            let count = Array(text.utf8).withUnsafeBytes { text in
                output.withUnsafeMutableBytes { Base64URL.decode(text, into: $0) }
            }
            return count.map { Array(output[..<$0]) }
        }
        #expect(decode("") == [])
        #expect(decode("TWFu") == Array("Man".utf8))
        #expect(decode("TWE") == Array("Ma".utf8))
        #expect(decode("-_8") == [0xFB, 0xFF])
        #expect(decode("TWE=") == nil, "no padding")
        #expect(decode("TWF") == nil, "bits past the last byte must be zero")
        #expect(decode("T") == nil)
        #expect(decode("TW+u") == nil, "base64, not base64url")
        #expect(decode(String(repeating: "A", count: 24)) == nil, "does not fit")
    }
}
