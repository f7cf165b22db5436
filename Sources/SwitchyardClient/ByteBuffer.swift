/// A growable byte region with a read and a write index, owned by one
/// connection. Grows only when a frame larger than its capacity arrives.
struct ByteBuffer: ~Copyable {
    private(set) var storage: UnsafeMutableRawBufferPointer
    private(set) var readIndex = 0
    private(set) var writeIndex = 0

    init(capacity: Int) {
        storage = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    var readable: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: storage[readIndex..<writeIndex])
    }

    var readableCount: Int { writeIndex - readIndex }

    /// Room to append at least `count` bytes, compacting or growing as needed.
    mutating func writable(atLeast count: Int) -> UnsafeMutableRawBufferPointer {
        if storage.count - writeIndex < count {
            if readIndex > 0 {
                let live = readableCount
                storage.baseAddress!.copyMemory(from: storage.baseAddress! + readIndex, byteCount: live)
                readIndex = 0
                writeIndex = live
            }
            if storage.count - writeIndex < count {
                let grown = UnsafeMutableRawBufferPointer.allocate(
                    byteCount: max(storage.count * 2, writeIndex + count), alignment: 16)
                grown.baseAddress!.copyMemory(from: storage.baseAddress!, byteCount: writeIndex)
                storage.deallocate()
                storage = grown
            }
        }
        return UnsafeMutableRawBufferPointer(rebasing: storage[writeIndex...])
    }

    mutating func didWrite(_ count: Int) { writeIndex += count }

    mutating func didRead(_ count: Int) {
        readIndex += count
        if readIndex == writeIndex {
            readIndex = 0
            writeIndex = 0
        }
    }

    mutating func clear() {
        readIndex = 0
        writeIndex = 0
    }
}
