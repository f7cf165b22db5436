import CLinux
import Glibc

/// An IPv4 or IPv6 address and port, parsed from `host:port` or `[v6]:port`.
/// Only numeric hosts are accepted (plus `localhost`): a daemon that resolves
/// names at startup depends on DNS being up, and Switchyard must not.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Family: Sendable { case v4, v6 }

    public let host: String
    public let port: UInt16
    public let family: Family

    public init(host: String, port: UInt16) throws(AddressError) {
        let host = host == "localhost" ? "127.0.0.1" : host
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            family = .v4
        } else if inet_pton(AF_INET6, host, &v6) == 1 {
            family = .v6
        } else {
            throw AddressError(text: host, reason: "not a numeric IPv4 or IPv6 address")
        }
        self.host = host
        self.port = port
    }

    /// Parses `127.0.0.1:7400`, `[::1]:7400` or `localhost:7400`.
    public init(parsing text: String) throws(AddressError) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"),
                text[text.index(after: close)...].hasPrefix(":")
            else { throw AddressError(text: text, reason: "expected [IPv6]:port") }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon else {
                throw AddressError(text: text, reason: "expected host:port (write IPv6 as [addr]:port)")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard let port = UInt16(portPart) else {
            throw AddressError(text: text, reason: "the port must be a number from 0 to 65535")
        }
        try self.init(host: String(hostPart), port: port)
    }

    public var description: String {
        family == .v6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Calls `body` with this address as a `sockaddr` and its length.
    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        switch family {
        case .v4:
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = port.bigEndian
            _ = inet_pton(AF_INET, host, &sa.sin_addr)
            return withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .v6:
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = port.bigEndian
            _ = inet_pton(AF_INET6, host, &sa.sin6_addr)
            return withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }

    var domain: Int32 { family == .v4 ? AF_INET : AF_INET6 }
}

public struct AddressError: Error, Equatable, Sendable, CustomStringConvertible {
    public let text: String
    public let reason: String
    public var description: String { "invalid address '\(text)': \(reason)" }
}
