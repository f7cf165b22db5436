import CLinux
import Glibc

/// A joinable POSIX thread. Event loops run on these rather than on Swift's
/// cooperative pool, whose threads must never block in epoll_wait.
public struct Thread: Sendable {
    private let handle: pthread_t

    private final class Start: Sendable {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// Starts `body` on a new thread named `name` (Linux keeps 15 characters).
    /// The thread must be joined exactly once.
    public init(name: String, _ body: @escaping @Sendable () -> Void) throws(SyscallError) {
        let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(
            &handle, nil,
            { raw in
                let start = Unmanaged<Start>.fromOpaque(raw!).takeRetainedValue()
                _ = clinux_set_thread_name(String(start.name.prefix(15)))
                start.body()
                return nil
            }, start)
        if rc != 0 {
            Unmanaged<Start>.fromOpaque(start).release()
            throw SyscallError(call: "pthread_create", errno: rc)
        }
        self.handle = handle
    }

    /// Waits for the thread to finish.
    public func join() {
        pthread_join(handle, nil)
    }
}
