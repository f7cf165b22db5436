import Benchmark
import Logging
import SwitchyardCore
import SwitchyardPosix
import SwitchyardServer
import SwitchyardWire

/// Micro benchmarks of the request path. Their allocation counts are the
/// point: every one of these must stay at 0 mallocs (the thresholds in
/// Benchmarks/Thresholds hold malloc counts only; timing on a shared 2-vCPU
/// machine is reported, never gated).
let benchmarks: @Sendable () -> Void = {
    // Must be set before any benchmark is registered: registration copies it.
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        thresholds: [.mallocCountTotal: .init(absolute: [.p100: 0])]
    )

    Benchmark("Parse a frame header (x1000)") { benchmark in
        let frame = pingFrame(id: 7, payload: 4)
        frame.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations {
                blackHole(FrameHeader.parse(bytes, maxBodyLength: 16_384))
            }
        }
    }

    Benchmark("Read a HELLO body (x1000)") { benchmark in
        let body: [UInt8] = [1, 1, 0xFF, 0xFF, 0xFF, 0xFF, 4, 0x74, 0x65, 0x73, 0x74]
        body.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations {
                var reader = BodyReader(bytes)
                blackHole((reader.u8(), reader.u8(), reader.u32(), reader.str8().count, reader.isComplete))
            }
        }
    }

    // The whole server path: a live in-process server on 127.0.0.1 with one
    // loop, driven from the benchmark thread over a raw socket with
    // preallocated buffers, so any malloc counted is the server's.
    for (name, batch) in [
        ("PING round trip through the server (x1000)", 1),
        ("PING, 16 pipelined per write, through the server (x1000 batches)", 16),
    ] {
        Benchmark(name) { benchmark, fixture in
            for _ in benchmark.scaledIterations { fixture.roundTrip(batch: batch) }
        } setup: {
            try PingFixture()
        }
    }
}

func pingFrame(id: UInt32, payload: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: FrameHeader.size + payload)
    bytes.withUnsafeMutableBytes { raw in
        FrameHeader(opcode: .ping, requestID: id, bodyLength: UInt32(payload)).encode(to: raw.baseAddress!)
    }
    return bytes
}

final class PingFixture: @unchecked Sendable {
    // @unchecked: used from the benchmark thread only; the server's loop
    // threads never touch these buffers.
    let server: Server
    let fd: Int32
    let request: UnsafeMutableRawBufferPointer
    let reply: UnsafeMutableRawBufferPointer
    let frameBytes: Int

    init() throws {
        var configuration = Configuration()
        configuration.server.listen = "127.0.0.1:0"
        configuration.server.loops = 1
        var logger = Logger(label: "benchmark")
        logger.logLevel = .error
        server = try Server(configuration: configuration, logger: logger)
        try server.start()
        fd = try Socket.connect(to: SocketAddress(host: "127.0.0.1", port: server.port), timeoutMilliseconds: 2_000)
        let frame = pingFrame(id: 1, payload: 4)
        frameBytes = frame.count
        request = .allocate(byteCount: frame.count * 16, alignment: 16)
        reply = .allocate(byteCount: frame.count * 16, alignment: 16)
        for i in 0..<16 {
            frame.withUnsafeBytes {
                (request.baseAddress! + i * frame.count).copyMemory(from: $0.baseAddress!, byteCount: frame.count)
            }
        }
        for _ in 0..<1_000 { roundTrip(batch: 16) }  // warm the server's buffer pool
    }

    func roundTrip(batch: Int) {
        let count = frameBytes * batch
        var sent = 0
        while sent < count {
            sent += (try? Descriptor.write(fd, from: request.baseAddress! + sent, count: count - sent)) ?? 0
        }
        var received = 0
        while received < count {
            received += (try? Descriptor.read(fd, into: reply.baseAddress! + received, count: count - received)) ?? 0
        }
    }

    /// The harness drops the setup result after the benchmark; the server goes with it.
    deinit {
        Descriptor.close(fd)
        server.shutdown()
        request.deallocate()
        reply.deallocate()
    }
}
