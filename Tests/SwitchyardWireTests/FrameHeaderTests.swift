import SwitchyardWire
import Testing

@Suite struct FrameHeaderTests {
    let ping: [UInt8] = [
        0x53, 0x59, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
    ]

    func parse(_ bytes: [UInt8], max: UInt32 = 16_384) -> FrameParseResult {
        bytes.withUnsafeBytes { FrameHeader.parse($0, maxBodyLength: max) }
    }

    @Test func parsesEveryField() {
        let bytes: [UInt8] = [
            0x53, 0x59, 0x01, 0x11, 0x03, 0x00, 0x07, 0x00, 0x78, 0x56, 0x34, 0x12, 0x10, 0x00, 0x00, 0x00,
        ]
        #expect(
            parse(bytes)
                == .header(
                    FrameHeader(
                        opcode: .route, flags: [.reply, .close], status: .notImplemented, requestID: 0x1234_5678,
                        bodyLength: 16)))
    }

    @Test func encodeThenParseGivesTheSameHeader() {
        let header = FrameHeader(
            opcode: .hello, flags: .reply, status: .malformedBody, requestID: .max, bodyLength: 300)
        var bytes = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeMutableBytes { header.encode(to: $0.baseAddress!) }
        #expect(parse(bytes, max: 1_000) == .header(header))
        #expect(header.frameLength == 316)
    }

    @Test(arguments: 0..<16)
    func everyShortPrefixOfAValidHeaderNeedsMore(length: Int) {
        #expect(parse(Array(ping.prefix(length))) == .needMore)
    }

    @Test func wrongMagicIsRefusedFromTheFirstByte() {
        #expect(parse([0x47]) == .fatal(.badMagic, nil))  // "G" of "GET"
        #expect(parse([0x53, 0x00]) == .fatal(.badMagic, nil))
        #expect(parse(Array("GET / HTTP/1.1\r\n".utf8)) == .fatal(.badMagic, nil))
    }

    @Test func anotherVersionIsRefusedFromTheThirdByte() {
        #expect(parse([0x53, 0x59, 0x02]) == .fatal(.unsupportedVersion, nil))
        #expect(parse([0x53, 0x59, 0x00]) == .fatal(.unsupportedVersion, nil))
    }

    @Test func bodyOverTheLimitIsRefusedWithTheHeaderEchoed() {
        var bytes = ping
        bytes[12] = 0x01
        bytes[13] = 0x40  // 16385
        guard case .fatal(.frameTooLarge, let header?) = parse(bytes) else {
            Issue.record("expected frameTooLarge")
            return
        }
        #expect(header.requestID == 42)
        #expect(header.opcode == .ping)
        #expect(parse(bytes, max: 16_385) != .fatal(.frameTooLarge, header))
    }

    @Test func namesAreStable() {
        #expect(Opcode.decide.description == "DECIDE(0x12)")
        #expect(Opcode(rawValue: 0x99).name.description == "UNKNOWN")
        #expect(Status.notImplemented.description == "NOT_IMPLEMENTED(7)")
        #expect(Set(Status.allDefined.map(\.rawValue)).count == Status.allDefined.count)
        #expect(Set(Opcode.allDefined.map(\.rawValue)).count == Opcode.allDefined.count)
    }
}
