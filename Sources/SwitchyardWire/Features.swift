/// Capabilities negotiated by HELLO: the client names what it means to use,
/// the server answers with the subset it supports.
public struct Features: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let authorize = Features(rawValue: 1 << 0)
    public static let route = Features(rawValue: 1 << 1)
    public static let decide = Features(rawValue: 1 << 2)
    public static let report = Features(rawValue: 1 << 3)
    public static let admin = Features(rawValue: 1 << 4)

    /// Everything a client could ask for; the reply shows what is granted.
    public static let all = Features(rawValue: UInt32.max)
}
