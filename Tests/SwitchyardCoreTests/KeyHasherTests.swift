import Foundation
import SwitchyardCore
import Testing

@Suite struct KeyHasherTests {
    // RFC 4231 test case 6: a 131-byte key.
    static let secret = [UInt8](repeating: 0xAA, count: 131)

    @Test func digestsAreHMACSHA256UnderTheSecret() throws {
        let hasher = try KeyHasher(secret: Self.secret)
        let digest = hasher.digest(of: "Test Using Larger Than Block-Size Key - Hash Key First")
        #expect(
            digest.storedForm == "hmac-sha256:60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        #expect(KeyDigest(storedForm: digest.storedForm) == digest)
        #expect(digest.matches(hasher.digest(of: "Test Using Larger Than Block-Size Key - Hash Key First")))
        #expect(!digest.matches(hasher.digest(of: "Test Using Larger Than Block-Size Key - Hash Key Firsu")))
    }

    /// Keys of up to 55 bytes take a one-block path of their own; longer
    /// ones the general one. Expected values from Python's `hmac` module.
    @Test(arguments: [
        (0, "44b545def5b97eb719d856a15e327833e520e4770619c0e3eefbde24b71285a7"),
        (1, "67a4dbe5815d06cd720a39c5cb58e1fcdb90e452596a42da5f602f6b587ff1d7"),
        (55, "5e49bd164fd0d2cf1469369049390b07c51729abf6937f4864b4a7ac458759c4"),
        (56, "724aa9fbd18cd7d6580bb6b652b4535182934da7883251b1bcf413e52f9a3603"),
        (63, "66a0b18f138aa3e255529948e2f529a5dc11971cd7f2f0b7e853cd78a9749296"),
        (64, "4b5b790a5e9655c8018ff1e029a1a627eca1f246da1af7ce1f4884d4c5122f04"),
        (119, "0f96168d8c6bdf642cf2b8c58f5b04d1537ccbfb6a3286cef5d4fae49ce0577d"),
        (120, "f8bd1edd43c831dcd4871b6471f57163b5eddcfd432576d02a9044fea4bc4508"),
    ])
    func digestsAreRightOnBothSidesOfTheOneBlockLimit(length: Int, expected: String) throws {
        let hasher = try KeyHasher(secret: Self.secret)
        let key = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
        let digest = key.withUnsafeBytes { hasher.digest(of: $0) }
        #expect(digest.storedForm == KeyDigest.prefix + expected)
    }

    @Test func anotherSecretGivesAnotherDigest() throws {
        let a = try KeyHasher(secret: Self.secret)
        let b = try KeyHasher(secret: [UInt8](repeating: 0xAB, count: 32))
        #expect(a.digest(of: "sk_live_9f2c") != b.digest(of: "sk_live_9f2c"))
    }

    @Test func shortSecretsAndMalformedStoredFormsAreRefused() {
        #expect(throws: KeyHasher.SecretError.tooShort(16)) { try KeyHasher(secret: [UInt8](repeating: 1, count: 16)) }
        let good = "hmac-sha256:" + String(repeating: "0a", count: 32)
        #expect(KeyDigest(storedForm: good) != nil)
        for bad in [
            "sha256:" + String(repeating: "0a", count: 32),  // wrong scheme
            "hmac-sha256:" + String(repeating: "0a", count: 31),  // short
            "hmac-sha256:" + String(repeating: "0A", count: 32),  // upper case
            "hmac-sha256:" + String(repeating: "0g", count: 32),  // not hex
            "hmac-sha256:" + String(repeating: "0a", count: 33),  // long
        ] {
            #expect(KeyDigest(storedForm: bad) == nil, "\(bad)")
        }
    }
}

@Suite struct KeySecretTests {
    @Test func theSecretComesFromAFileOrHexAndIsLongEnough() throws {
        let hex = String(repeating: "ab", count: 32)
        #expect(try KeySecret.load(environment: [KeySecret.hexVariable: hex]) == [UInt8](repeating: 0xAB, count: 32))
        let path = "/tmp/switchyard-secret-\(getpid())"
        try Data(([UInt8](repeating: 7, count: 40) + [0x0A])).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(
            try KeySecret.load(environment: [KeySecret.fileVariable: path, KeySecret.hexVariable: hex])
                == [UInt8](repeating: 7, count: 40), "the file wins; its trailing newline is not part of it")
        for (environment, message) in [
            ([String: String](), "no key secret"),
            ([KeySecret.hexVariable: "abc"], "expected hex digits"),
            ([KeySecret.hexVariable: "zz"], "expected hex digits"),
            ([KeySecret.hexVariable: "abcd"], "has 2 bytes; at least 32"),
            ([KeySecret.fileVariable: "/nonexistent/secret"], "cannot read /nonexistent/secret"),
        ] {
            #expect(throws: KeySecret.LoadError.self) { try KeySecret.load(environment: environment) }
            do {
                _ = try KeySecret.load(environment: environment)
            } catch {
                #expect(error.description.contains(message), "\(error.description)")
            }
        }
    }
}
