import SwitchyardWire
import Testing

@Suite struct BodyCodecTests {
    @Test func writesAndReadsEveryFieldType() {
        var buffer = [UInt8](repeating: 0, count: 64)
        let written = buffer.withUnsafeMutableBytes { raw in
            var writer = BodyWriter(raw)
            writer.u8(0xAB)
            writer.u16(0x1234)
            writer.u32(0xDEAD_BEEF)
            writer.u64(0x0102_0304_0506_0708)
            writer.str8("card")
            writer.str16("é")
            #expect(!writer.failed)
            return writer.count
        }
        #expect(written == 1 + 2 + 4 + 8 + 5 + 4)
        #expect(Array(buffer[1..<3]) == [0x34, 0x12], "little-endian")
        buffer.withUnsafeBytes { raw in
            var reader = BodyReader(UnsafeRawBufferPointer(rebasing: raw[..<written]))
            #expect(reader.u8() == 0xAB)
            #expect(reader.u16() == 0x1234)
            #expect(reader.u32() == 0xDEAD_BEEF)
            #expect(reader.u64() == 0x0102_0304_0506_0708)
            #expect(reader.str8().utf8String == "card")
            #expect(reader.str16().utf8String == "é")
            #expect(reader.isComplete)
        }
    }

    @Test func readingPastTheEndFailsAndStaysFailed() {
        let bytes: [UInt8] = [0x05, 0x61, 0x62]  // str8 announcing 5 bytes, 2 present
        bytes.withUnsafeBytes { raw in
            var reader = BodyReader(raw)
            #expect(reader.str8().count == 0)
            #expect(reader.failed)
            #expect(reader.u8() == 0)
            #expect(!reader.isComplete)
        }
    }

    @Test func leftoverBytesAreNotComplete() {
        [UInt8]([1, 2]).withUnsafeBytes { raw in
            var reader = BodyReader(raw)
            _ = reader.u8()
            #expect(!reader.failed)
            #expect(!reader.isComplete)
        }
    }

    @Test func writingPastCapacityOrAnOverlongStr8Fails() {
        var small = [UInt8](repeating: 0, count: 3)
        small.withUnsafeMutableBytes { raw in
            var writer = BodyWriter(raw)
            writer.u32(1)
            #expect(writer.failed)
        }
        var big = [UInt8](repeating: 0, count: 1_000)
        big.withUnsafeMutableBytes { raw in
            var writer = BodyWriter(raw)
            writer.str8(String(repeating: "x", count: 256))
            #expect(writer.failed)
        }
    }

    @Test func frameEncoderFillsInTheBodyLength() {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { raw in
            FrameEncoder.encode(into: raw, header: FrameHeader(opcode: .ping, requestID: 9)) { $0.u32(7) }
        }
        #expect(count == 20)
        #expect(Array(buffer[12..<16]) == [4, 0, 0, 0])
        let tooSmall = buffer.withUnsafeMutableBytes { raw in
            FrameEncoder.encode(
                into: UnsafeMutableRawBufferPointer(rebasing: raw[..<18]),
                header: FrameHeader(opcode: .ping, requestID: 9)
            ) { $0.u32(7) }
        }
        #expect(tooSmall == nil)
    }

    @Test func helloRoundTripsAndRejectsTrailingBytes() {
        let hello = Hello(minVersion: 1, maxVersion: 3, features: [.route, .report], clientName: "api-7")
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { raw in
            var writer = BodyWriter(raw)
            hello.write(to: &writer)
            return writer.count
        }
        #expect(buffer.withUnsafeBytes { Hello(body: UnsafeRawBufferPointer(rebasing: $0[..<count])) } == hello)
        #expect(buffer.withUnsafeBytes { Hello(body: UnsafeRawBufferPointer(rebasing: $0[..<(count + 1)])) } == nil)
        #expect(buffer.withUnsafeBytes { Hello(body: UnsafeRawBufferPointer(rebasing: $0[..<(count - 1)])) } == nil)
    }

    @Test func helloReplyIgnoresFieldsAppendedByLaterVersions() {
        let reply = HelloReply(
            version: 1, features: .route, maxBodyBytes: 100, serverName: "switchyard", serverVersion: "9",
            instanceID: "i")
        var buffer = [UInt8](repeating: 0xEE, count: 64)
        let count = buffer.withUnsafeMutableBytes { raw in
            var writer = BodyWriter(raw)
            reply.write(to: &writer)
            return writer.count
        }
        #expect(
            buffer.withUnsafeBytes { HelloReply(body: UnsafeRawBufferPointer(rebasing: $0[..<(count + 5)])) } == reply)
    }

    @Test func errorMessageOfAGarbledBodyIsEmpty() {
        #expect([UInt8]([9, 0, 65]).withUnsafeBytes { ErrorReply.message(body: $0) } == "")
        #expect([UInt8]([1, 0, 65]).withUnsafeBytes { ErrorReply.message(body: $0) } == "A")
    }
}
