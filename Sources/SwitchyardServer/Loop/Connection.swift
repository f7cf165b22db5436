/// One client connection's state, owned by its loop. Buffers come from the
/// loop's pool and are held only while they contain bytes.
struct Connection {
    var fd: Int32 = -1
    /// Bumped when the slot is reused, so an event for a previous occupant of
    /// the slot (closed earlier in the same epoll batch) is recognised and dropped.
    var generation: UInt32 = 0
    var input: UnsafeMutableRawPointer? = nil
    var inputCount = 0
    var output: UnsafeMutableRawPointer? = nil
    var outputStart = 0
    var outputEnd = 0
    var lastActivity: UInt64 = 0
    /// When the frame now partly in the input began to arrive; 0 when the
    /// input ends on a frame boundary. A byte-at-a-time sender keeps
    /// `lastActivity` fresh, so the frame timeout is what bounds it.
    var frameStarted: UInt64 = 0
    /// Close as soon as the pending output is sent; read nothing more.
    var closing = false
    /// The peer is not reading its replies: reading is paused and the loop
    /// waits for the socket to become writable (backpressure).
    var writeBlocked = false
    /// An admin request of this connection is being answered off the loop:
    /// its later frames wait (replies keep their order) and reading pauses.
    var awaitingAdmin = false
    /// When the admin request was handed over (``TickClock``).
    var adminSince: UInt64 = 0
    /// Reply bytes wait in the loop's overflow for this connection (a long
    /// admin reply that did not fit the output buffer). A flag, not the
    /// bytes: the struct stays free of reference-counted fields, so the
    /// copies the loop makes of it cost no retain or release.
    var hasOverflow = false
    /// Its last read was large (``EventLoop`` serves a few such connections
    /// per wake-up, after the others).
    var heavy = false

    var isOpen: Bool { fd >= 0 }
    var pendingOutput: Int { outputEnd - outputStart }
}

/// Connection slots of one loop, addressed by index; the epoll token carries
/// the index and the generation.
struct ConnectionTable {
    var slots: ContiguousArray<Connection> = []
    private var freeSlots: ContiguousArray<Int> = []
    private(set) var openCount = 0

    /// Takes a slot for a new connection (growing the table is an accept-time
    /// cost, never a per-request one).
    mutating func open(fd: Int32, now: UInt64) -> Int {
        let slot: Int
        if let reused = freeSlots.popLast() {
            slot = reused
        } else {
            slot = slots.count
            slots.append(Connection())
        }
        slots[slot].fd = fd
        slots[slot].lastActivity = now
        openCount += 1
        return slot
    }

    mutating func release(_ slot: Int) {
        let generation = slots[slot].generation &+ 1
        slots[slot] = Connection()
        slots[slot].generation = generation
        freeSlots.append(slot)
        openCount -= 1
    }

    static func token(slot: Int, generation: UInt32) -> UInt64 {
        UInt64(generation) << 32 | UInt64(UInt32(slot))
    }

    /// The slot a token names, or nil when it belongs to a closed connection.
    func slot(for token: UInt64) -> Int? {
        let slot = Int(token & 0xFFFF_FFFF)
        guard slot < slots.count, slots[slot].isOpen, slots[slot].generation == UInt32(token >> 32) else { return nil }
        return slot
    }
}
