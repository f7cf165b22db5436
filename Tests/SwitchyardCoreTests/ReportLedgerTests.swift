import Foundation
import SwitchyardCore
import Testing

@Suite struct ReportLedgerTests {
    static func key(_ payment: String, attempt: UInt8 = 1, merchant: Int = 0) -> UInt64 {
        var payment = payment
        return payment.withUTF8 {
            ReportLedger.hash(merchant: merchant, payment: UnsafeRawBufferPointer($0), attempt: attempt)
        }
    }

    @Test func aRepeatIsADuplicateWithinTheWindowOnly() {
        let ledger = ReportLedger(capacity: 1_024, windowSeconds: 60)
        #expect(ledger.record(Self.key("pay_1"), second: 100) == .recorded)
        #expect(ledger.record(Self.key("pay_1"), second: 159) == .duplicate)
        #expect(ledger.record(Self.key("pay_1", attempt: 2), second: 159) == .recorded)
        #expect(ledger.record(Self.key("pay_1", merchant: 1), second: 159) == .recorded)
        #expect(ledger.record(Self.key("pay_1"), second: 160) == .recorded, "forgotten after the window")
    }

    @Test func aFullRunIsSaidNotSilentlyDropped() {
        let ledger = ReportLedger(capacity: 1_024, windowSeconds: 60)
        var results: [ReportLedger.Result] = []
        for i in 0..<3_000 { results.append(ledger.record(Self.key("pay_\(i)"), second: 1)) }
        #expect(results.filter { $0 == .duplicate }.isEmpty)
        #expect(results.contains(.unremembered), "3000 keys in 1024 slots cannot all be remembered")
        #expect(results.filter { $0 == .recorded }.count <= 1_024)
    }

    @Test func racingLoopsSeeOneRecordedPerKey() async {
        let ledger = ReportLedger(capacity: 1 << 16, windowSeconds: 60)
        let recorded = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var count = 0
                    for i in 0..<5_000 where ledger.record(Self.key("pay_\(i)"), second: 7) == .recorded { count += 1 }
                    return count
                }
            }
            return await group.reduce(0, +)
        }
        #expect(recorded == 5_000)
    }
}

@Suite struct NameTableTests {
    @Test func findsEveryNameByItsBytesAndNothingElse() {
        let names = (0..<100).map { "gateway_\($0)" }
        let table = NameTable(names)
        for (index, name) in names.enumerated() { #expect(table.index(of: name) == index) }
        #expect(table.index(of: "gateway_100") == nil)
        #expect(table.index(of: "") == nil)
        #expect(table.index(of: "gateway_1 ") == nil)
        #expect(Array(table.bytes(of: 42)) == Array("gateway_42".utf8))
    }

    /// Names are hashed and compared a word at a time with overlapping tail
    /// loads: every length from 1 to 64 is found, and a name differing from a
    /// stored one in any single byte is not.
    @Test func everyLengthAndEveryBytePositionCounts() {
        let names = (1...64).map { String(repeating: "a", count: $0 - 1) + "z" }
        let table = NameTable(names)
        for (index, name) in names.enumerated() {
            #expect(table.index(of: name) == index)
            let bytes = Array(name.utf8)
            for position in bytes.indices {
                var changed = bytes
                changed[position] = UInt8(ascii: "b")
                let found = changed.withUnsafeBytes { table.index(of: $0) }
                #expect(found == nil, "\(name.count) bytes, changed at \(position)")
            }
        }
    }
}
