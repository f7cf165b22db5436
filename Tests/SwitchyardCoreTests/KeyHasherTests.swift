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
