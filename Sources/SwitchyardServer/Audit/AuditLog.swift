import Glibc
import Logging
import SwitchyardCore
import SwitchyardPosix
import Synchronization

/// The audit log: the loops put records (binary, ``AuditEvent``) in their
/// own ``AuditRing``, and a background thread turns them into JSON lines
/// and appends them to the file every `flush_interval_ms`, so a request
/// never waits on the disk and never formats JSON. The file is rotated by
/// size, between records: `path` becomes `path.1`, `path.1` becomes
/// `path.2`, and beyond `retain_files` the oldest is deleted.
///
/// Nothing is lost silently: a record with no room in its ring is dropped
/// and counted there; records the file refused (a full disk) are counted
/// as lost, and the error is logged.
final class AuditLog: Sendable {
    let settings: AuditSettings
    let rings: [AuditRing]
    private let file: LockedValue<File>
    private let thread = BackgroundThread()
    private let logger: Logger
    private let writtenRecords = Atomic<Int>(0)
    private let lostRecords = Atomic<Int>(0)
    private let rotationCount = Atomic<Int>(0)

    /// The file and the writer's buffers (the writer's alone: the lock is
    /// for tests that drain from their own thread).
    private struct File: ~Copyable {
        var fd: Int32
        var size: Int
        /// One ring's waiting records, copied out in one piece (a ring's
        /// may wrap in the middle of a record).
        let staging: UnsafeMutableRawBufferPointer
        /// One record as JSON.
        let line: UnsafeMutableRawBufferPointer
        /// JSON lines not yet written, and how many.
        let output: UnsafeMutableRawBufferPointer
        var pending = 0
        var pendingRecords = 0

        deinit {
            if fd >= 0 { Descriptor.close(fd) }
            staging.deallocate()
            line.deallocate()
            output.deallocate()
        }
    }

    /// The longest JSON line a record makes: 64 gateways with their names
    /// and figures, and the request's strings escaped (6 bytes a byte at worst).
    static let maxLineBytes = 16_384

    /// Opens (or creates) the file; fails when it cannot be opened for appending.
    init(settings: AuditSettings, loops: Int, logger: Logger) throws(SyscallError) {
        self.settings = settings
        self.logger = logger
        rings = (0..<loops).map { _ in AuditRing(capacity: settings.bufferBytes) }
        let fd = try Self.open(settings.path)
        var status = stat()
        fstat(fd, &status)
        file = LockedValue(
            File(
                fd: fd, size: Int(status.st_size),
                staging: .allocate(byteCount: settings.bufferBytes, alignment: 64),
                line: .allocate(byteCount: Self.maxLineBytes, alignment: 16),
                output: .allocate(byteCount: 256 * 1_024, alignment: 16)))
    }

    private static func open(_ path: String) throws(SyscallError) -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw SyscallError(call: "open \(path)", errno: errno) }
        return fd
    }

    /// Records written to the file so far.
    var written: Int { writtenRecords.load(ordering: .relaxed) }
    /// Records dropped for want of room in a ring, and lost to a failed write.
    var dropped: Int { rings.reduce(0) { $0 + $1.dropped } + lostRecords.load(ordering: .relaxed) }
    var rotations: Int { rotationCount.load(ordering: .relaxed) }

    func start() throws(SyscallError) {
        // Niceness 5: on a shared core the loops come first.
        try thread.start(name: "sy-audit", niceness: 5) { [self] in
            while !thread.isStopping {
                usleep(UInt32(settings.flushIntervalMilliseconds) * 1_000)
                drain()
            }
            drain()
        }
    }

    /// Stops the writer after it has written what the loops put in.
    func shutdown() { thread.stop() }

    /// Writes what every ring holds. The writer thread calls it; so may
    /// tests, which then need no thread.
    func drain() {
        file.withLock { file in
            for ring in rings {
                let (first, second, end) = ring.waiting()
                let count = first.count + second.count
                guard count > 0, let staging = file.staging.baseAddress else { continue }
                if let base = first.baseAddress { staging.copyMemory(from: base, byteCount: first.count) }
                if let base = second.baseAddress {
                    (staging + first.count).copyMemory(from: base, byteCount: second.count)
                }
                ring.release(to: end)
                var offset = 0
                while offset + AuditEvent.headerBytes <= count {
                    let record = UnsafeRawPointer(staging + offset)
                    let length = Int(record.loadUnaligned(fromByteOffset: AuditEvent.lengthAt, as: UInt32.self))
                    guard length >= AuditEvent.headerBytes, offset + length <= count else { break }
                    if let json = AuditEvent.format(record, into: file.line) {
                        add(json, to: &file)
                    } else {
                        lostRecords.add(1, ordering: .relaxed)
                    }
                    offset += length
                }
            }
            flush(&file)
        }
    }

    /// Queues one line, rotating first when it would take the file past
    /// `max_file_bytes` (a line larger than that fills a file alone).
    private func add(_ json: UnsafeRawBufferPointer, to file: inout File) {
        if file.size + file.pending + json.count > settings.maxFileBytes && file.size + file.pending > 0 {
            flush(&file)
            rotate(&file)
        }
        if file.pending + json.count > file.output.count { flush(&file) }
        (file.output.baseAddress! + file.pending).copyMemory(from: json.baseAddress!, byteCount: json.count)
        file.pending += json.count
        file.pendingRecords += 1
    }

    private func flush(_ file: inout File) {
        guard file.pending > 0 else { return }
        if file.fd >= 0, Self.writeAll(file.fd, UnsafeRawBufferPointer(rebasing: file.output[..<file.pending])) {
            file.size += file.pending
            writtenRecords.add(file.pendingRecords, ordering: .relaxed)
        } else {
            lostRecords.add(file.pendingRecords, ordering: .relaxed)
            logger.error(
                "audit records lost: the file refused them",
                metadata: ["path": "\(settings.path)", "records": "\(file.pendingRecords)", "errno": "\(errno)"])
            if file.fd < 0 { reopen(&file) }
        }
        file.pending = 0
        file.pendingRecords = 0
    }

    private func rotate(_ file: inout File) {
        Descriptor.close(file.fd)
        file.fd = -1
        let path = settings.path
        if settings.retainFiles == 0 {
            unlink(path)
        } else {
            unlink("\(path).\(settings.retainFiles)")
            for index in stride(from: settings.retainFiles - 1, through: 1, by: -1) {
                rename("\(path).\(index)", "\(path).\(index + 1)")
            }
            rename(path, "\(path).1")
        }
        rotationCount.add(1, ordering: .relaxed)
        reopen(&file)
    }

    private func reopen(_ file: inout File) {
        do {
            file.fd = try Self.open(settings.path)
            var status = stat()
            fstat(file.fd, &status)
            file.size = Int(status.st_size)
        } catch {
            logger.error("audit log cannot be opened", metadata: ["error": "\(error)"])
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < bytes.count {
            let count = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            done += count
        }
        return true
    }
}
