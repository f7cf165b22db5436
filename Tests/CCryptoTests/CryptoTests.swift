import CCrypto
import Foundation
import Testing

@Suite struct CryptoTests {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func sha256(_ text: String) -> String {
        var out = [UInt8](repeating: 0, count: 32)
        let input = Array(text.utf8)
        ccrypto_sha256(input, input.count, &out)
        return hex(out)
    }

    func hmac(key: [UInt8], _ data: [UInt8]) -> String {
        var prepared = ccrypto_hmac_key()
        ccrypto_hmac_key_init(&prepared, key, key.count)
        defer { ccrypto_hmac_key_clear(&prepared) }
        var out = [UInt8](repeating: 0, count: 32)
        ccrypto_hmac_sha256(&prepared, data, data.count, &out)
        return hex(out)
    }

    @Test func sha256MatchesFIPS180Vectors() {
        #expect(sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    // RFC 4231 test cases 1, 2 and 6 (a key longer than the block is hashed first).
    @Test func hmacMatchesRFC4231() {
        #expect(
            hmac(key: [UInt8](repeating: 0x0B, count: 20), Array("Hi There".utf8))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(
            hmac(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(
            hmac(
                key: [UInt8](repeating: 0xAA, count: 131),
                Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test func preparedKeyGivesTheSameMACEveryTime() {
        var prepared = ccrypto_hmac_key()
        let key = Array("server-secret".utf8)
        ccrypto_hmac_key_init(&prepared, key, key.count)
        var first = [UInt8](repeating: 0, count: 32)
        var second = [UInt8](repeating: 0, count: 32)
        ccrypto_hmac_sha256(&prepared, "k1", 2, &first)
        ccrypto_hmac_sha256(&prepared, "k1", 2, &second)
        #expect(first == second)
    }

    @Test func equalComparesWholeBuffers() {
        let a: [UInt8] = [1, 2, 3, 4]
        #expect(ccrypto_equal(a, [1, 2, 3, 4] as [UInt8], 4) == 1)
        #expect(ccrypto_equal(a, [1, 2, 3, 5] as [UInt8], 4) == 0)
        #expect(ccrypto_equal(a, [9, 2, 3, 4] as [UInt8], 4) == 0)
    }
}
