import CLinux
import Glibc

/// Receives signals as readable events instead of through handlers, which in
/// Swift would be @convention(c) functions that can capture nothing.
public struct SignalFD: ~Copyable {
    public let fd: Int32

    /// Blocks `signals` for the calling thread and every thread it starts
    /// afterwards, then opens a descriptor that reads them.
    public init(blocking signals: [Int32]) throws(SyscallError) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        let rc = pthread_sigmask(SIG_BLOCK, &set, nil)
        if rc != 0 { throw SyscallError(call: "pthread_sigmask", errno: rc) }
        fd = try retrying("signalfd") { signalfd(-1, &set, Int32(SFD_CLOEXEC)) }
    }

    deinit { Descriptor.close(fd) }

    /// Blocks until a signal arrives and returns its number.
    public func next() throws(SyscallError) -> Int32 {
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        _ = try retrying("read(signalfd)") { Glibc.read(fd, &info, size) }
        return Int32(info.ssi_signo)
    }
}
