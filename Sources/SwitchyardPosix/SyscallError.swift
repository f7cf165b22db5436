import Glibc

/// A failed system call: which call, and the errno it left.
public struct SyscallError: Error, Equatable, Sendable, CustomStringConvertible {
    public let call: String
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String {
        "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Runs a system call, retrying on EINTR. EBADF and EFAULT mean a bug in this
/// process (a closed or wild descriptor), never a peer's doing, so they stop
/// it where the bug is rather than letting it spread: NIO does the same.
@inline(__always)
func retrying<T: BinaryInteger>(_ call: StaticString, _ body: () -> T) throws(SyscallError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let err = Glibc.errno
        if err == EINTR { continue }
        precondition(err != EBADF && err != EFAULT, "\(call): errno \(err) means a descriptor bug")
        throw SyscallError(call: "\(call)", errno: err)
    }
}
