import Logging
import Synchronization

/// One log level for every logger of the process, changeable at run time, so
/// that a reload of `logging.level` reaches the event loops' loggers too (each
/// holds its own copy of its Logger).
final class LogLevelSwitch: Sendable {
    private let raw: Atomic<Int>

    init(_ level: Logger.Level) { raw = Atomic(Logger.Level.allCases.firstIndex(of: level)!) }

    var level: Logger.Level {
        get { Logger.Level.allCases[raw.load(ordering: .relaxed)] }
        set { raw.store(Logger.Level.allCases.firstIndex(of: newValue)!, ordering: .relaxed) }
    }

    /// Wraps a handler so that its level is this switch's.
    func handler(wrapping inner: some LogHandler) -> some LogHandler {
        SwitchedHandler(inner: inner, levelSwitch: self)
    }
}

private struct SwitchedHandler<Inner: LogHandler>: LogHandler {
    var inner: Inner
    let levelSwitch: LogLevelSwitch

    var logLevel: Logger.Level {
        get { levelSwitch.level }
        set { levelSwitch.level = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        inner.log(event: event)
    }
}
