/// Fixed-size connection buffers, recycled per loop. A connection holds a
/// buffer only while it has unprocessed input or unsent output, so an idle
/// connection costs no buffer memory, and after warm-up taking and giving
/// back a buffer is a pointer push and pop, never a malloc.
struct BufferPool: ~Copyable {
    let bufferBytes: Int
    private let retainLimit: Int
    private var free: UnsafeMutablePointer<UnsafeMutableRawPointer>
    private var freeCount = 0

    init(bufferBytes: Int, retainLimit: Int) {
        self.bufferBytes = bufferBytes
        self.retainLimit = retainLimit
        free = .allocate(capacity: retainLimit)
    }

    deinit {
        for i in 0..<freeCount { free[i].deallocate() }
        free.deallocate()
    }

    mutating func take() -> UnsafeMutableRawPointer {
        if freeCount > 0 {
            freeCount -= 1
            return free[freeCount]
        }
        return .allocate(byteCount: bufferBytes, alignment: 64)
    }

    /// Returns a buffer; past the retain limit it goes back to the allocator,
    /// so a connection storm does not pin its peak memory forever.
    mutating func give(_ buffer: UnsafeMutableRawPointer) {
        if freeCount < retainLimit {
            free[freeCount] = buffer
            freeCount += 1
        } else {
            buffer.deallocate()
        }
    }
}
