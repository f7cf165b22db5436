import Glibc

/// Plain reads, writes and closes on a non-blocking descriptor, with EAGAIN
/// turned into nil so the caller's event loop decides what happens next.
public enum Descriptor {
    /// Bytes read (0 means the peer closed), or nil when nothing is available.

    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int) throws(SyscallError) -> Int?
    {
        try wouldBlockAsNil("read") { Glibc.read(fd, buffer, count) }
    }

    /// Bytes written, or nil when the socket buffer is full.

    public static func write(_ fd: Int32, from buffer: UnsafeRawPointer, count: Int) throws(SyscallError) -> Int? {
        try wouldBlockAsNil("write") { Glibc.write(fd, buffer, count) }
    }

    public static func close(_ fd: Int32) {
        // The descriptor is released even when close reports an error (Linux
        // semantics), so retrying it could close somebody else's descriptor.
        _ = Glibc.close(fd)
    }

    static func wouldBlockAsNil(_ call: StaticString, _ body: () -> Int) throws(SyscallError) -> Int? {
        while true {
            let n = body()
            if n >= 0 { return n }
            let err = Glibc.errno
            switch err {
            case EINTR: continue
            case EAGAIN: return nil
            default:
                precondition(err != EBADF && err != EFAULT, "\(call): errno \(err) means a descriptor bug")
                throw SyscallError(call: "\(call)", errno: err)
            }
        }
    }
}
