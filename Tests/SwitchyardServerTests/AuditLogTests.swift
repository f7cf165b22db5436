import Foundation
import Logging
import SwitchyardCore
import SwitchyardTesting
import Testing

@testable import SwitchyardServer

/// The audit log's parts without a server: records are valid JSON that
/// reads back exactly, a ring refuses what it has no room for and counts
/// it, and the file rotates between records, keeping `retain_files`.
@Suite struct AuditLogTests {
    static func record(_ write: (inout AuditRecord) -> Void, capacity: Int = 4_096) -> [String: Any]? {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        var record = AuditRecord(into: buffer, event: "route", unixNanoseconds: 1_795_384_533_123_456_789)
        write(&record)
        guard let bytes = record.finish() else { return nil }
        #expect(bytes.last == 0x0A && bytes.dropLast().allSatisfy { $0 != 0x0A }, "one line")
        return try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
    }

    @Test func aRecordIsOneLineOfJSONThatReadsBackExactly() throws {
        let odd: [UInt8] = Array("m\"1\\\n".utf8) + [0x01, 0xE9]
        let parsed = try #require(
            Self.record { record in
                odd.withUnsafeBytes { record.text("merchant", bytes: $0) }
                record.text("operation", bytes: UnsafeRawBufferPointer(start: nil, count: 0))
                record.numberText("decision_id", .max)
                record.number("attempt", 3)
                record.decimal("propensity", 0.97)
                record.decimal("score", 12.5)
                record.decimal("one", 1)
                record.decimal("tiny", 0.000_000_4)
                record.beginArray("gateways")
                for name in ["razorpay", "payu"] {
                    record.beginElement()
                    Array(name.utf8).withUnsafeBytes { record.text("gateway", bytes: $0) }
                    record.endElement()
                }
                record.endArray()
                record.null("rule")
            })
        #expect(parsed["time"] as? String == "2026-11-22T21:55:33.123456Z")
        #expect(parsed["event"] as? String == "route")
        // Printable ASCII as is, the rest one \u00XX per byte.
        #expect(parsed["merchant"] as? String == "m\"1\\\n\u{01}\u{E9}")
        #expect(parsed["operation"] is NSNull && parsed["rule"] is NSNull)
        #expect(parsed["decision_id"] as? String == "18446744073709551615")
        #expect(parsed["attempt"] as? Int == 3)
        #expect(parsed["propensity"] as? Double == 0.97 && parsed["score"] as? Double == 12.5)
        #expect(parsed["one"] as? Int == 1 && parsed["tiny"] as? Int == 0)
        let gateways = try #require(parsed["gateways"] as? [[String: Any]])
        #expect(gateways.map { $0["gateway"] as? String } == ["razorpay", "payu"])
    }

    @Test func aRecordThatDoesNotFitIsRefusedWhole() {
        #expect(
            Self.record({ $0.text("merchant", bytes: UnsafeRawBufferPointer(start: nil, count: 0)) }, capacity: 40)
                == nil)
    }

    @Test(
        arguments: [
            (0, "1970-01-01"), (59, "1970-03-01"), (10_957, "2000-01-01"), (11_016, "2000-02-29"),
            (20_414, "2025-11-22"),
            (47_541, "2100-03-01"),
        ] as [(Int64, String)])
    func datesAreGregorian(_ days: Int64, _ expected: String) {
        let (year, month, day) = AuditRecord.civil(days: days)
        #expect(String(format: "%04d-%02d-%02d", year, month, day) == expected)
    }

    static func settings(
        _ directory: TemporaryDirectory, maxFileBytes: Int = 1 << 20, retain: Int = 2, buffer: Int = 4_096
    )
        -> AuditSettings
    {
        var settings = AuditSettings()
        settings.path = directory.path + "/audit.jsonl"
        settings.maxFileBytes = maxFileBytes
        settings.retainFiles = retain
        settings.bufferBytes = buffer
        return settings
    }

    /// A denial's record for merchant `m_NNNN` (index `index`), as a loop
    /// puts it in its ring: 62 bytes, and a JSON line of constant length.
    static func event(_ index: Int) -> [UInt8] {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: AuditEvent.maxBytes, alignment: 16)
        defer { buffer.deallocate() }
        let merchant = Array(String(format: "m_%04d", index).utf8)
        return merchant.withUnsafeBytes { merchant in
            let none = UnsafeRawBufferPointer(start: nil, count: 0)
            let length = AuditEvent.begin(
                buffer.baseAddress!, kind: .authorization, request: .authorize,
                reason: AuthorizationReason.badKey.rawValue, attempt: 0, strings: (merchant, none, none, none, none),
                unixNanoseconds: 1_795_384_533_123_456_789)
            return Array(AuditEvent.finish(buffer.baseAddress!, length: length))
        }
    }

    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    static func merchant(_ line: String) -> Int? {
        let parsed = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        return (parsed?["merchant"] as? String).flatMap { Int($0.dropFirst(2)) }
    }

    /// Back-pressure: with the writer behind, a full ring drops records and
    /// counts each; what it took is written whole once the writer catches up.
    @Test func aFullRingDropsAndCountsAndLosesNothingItTook() throws {
        let directory = try TemporaryDirectory()
        let log = try AuditLog(settings: Self.settings(directory), loops: 2, logger: Logger(label: "test"))
        var accepted = 0
        for index in 0..<100 where Self.event(index).withUnsafeBytes({ log.rings[0].append($0) }) { accepted += 1 }
        #expect(accepted == 4_096 / 62, "4,096 bytes hold 66 records of 62")
        #expect(log.dropped == 100 - accepted && log.written == 0)
        log.drain()
        #expect(log.written == accepted && log.dropped == 100 - accepted)
        let written = Self.lines(directory.path + "/audit.jsonl")
        #expect(written.map(Self.merchant) == Array(0..<accepted))
        #expect(written.first?.contains("\"reason\":\"bad_key\"") == true)
        // The ring has room again, including across its wrap.
        for index in 100..<130 { #expect(Self.event(index).withUnsafeBytes { log.rings[0].append($0) }) }
        log.drain()
        #expect(Self.lines(directory.path + "/audit.jsonl").count == accepted + 30 && log.dropped == 100 - accepted)
    }

    @Test func theFileRotatesBetweenRecordsAndKeepsTheRetainedOnes() throws {
        let directory = try TemporaryDirectory()
        let log = try AuditLog(
            settings: Self.settings(directory, maxFileBytes: 4_096, retain: 2, buffer: 65_536), loops: 1,
            logger: Logger(label: "test"))
        for round in 0..<4 {
            for index in 0..<100 { _ = Self.event(round * 100 + index).withUnsafeBytes { log.rings[0].append($0) } }
            log.drain()
        }
        #expect(log.written == 400 && log.dropped == 0)
        let base = directory.path + "/audit.jsonl"
        let lineBytes = (Self.lines(base).first?.utf8.count ?? 0) + 1
        for file in [base, base + ".1", base + ".2"] {
            let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            #expect(size > 0 && size <= 4_096 && size % lineBytes == 0, "\(file): \(size) bytes, whole records")
        }
        #expect(!FileManager.default.fileExists(atPath: base + ".3"), "retain_files 2")
        // The newest records are in the current file, the ones just before in .1.
        let current = Self.lines(base).compactMap(Self.merchant)
        #expect(current.last == 399)
        let previous = Self.lines(base + ".1").compactMap(Self.merchant)
        #expect(previous.last.map { $0 + 1 } == current.first)
        #expect(log.rotations == 400 / (4_096 / lineBytes))
    }

    @Test func anUnwritablePathFailsAtStart() throws {
        var settings = AuditSettings()
        settings.path = "/nonexistent-directory/audit.jsonl"
        #expect(throws: (any Error).self) { try AuditLog(settings: settings, loops: 1, logger: Logger(label: "test")) }
    }
}
