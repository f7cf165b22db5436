import Glibc

/// Polls `condition` every 10 ms until it holds or `seconds` pass (for work
/// a background thread or another process does); returns the last answer.
@discardableResult
public func eventually(seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    for _ in 0..<Int(seconds * 100) {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}
