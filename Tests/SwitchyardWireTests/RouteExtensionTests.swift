import SwitchyardWire
import Testing

/// ROUTE's optional extensions after `tried`: labels read back as written,
/// unknown tags are skipped, and each malformed form refuses the body.
@Suite struct RouteExtensionTests {
    static let request = RouteRequest(
        merchantID: "m_1", paymentID: "pay_1", method: "card", currency: "INR", amount: 100, tried: ["payu"],
        labels: ["channel": "app", "region": "in"])

    static func body(_ request: RouteRequest = request, then extra: [UInt8] = []) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4_096)
        let count = buffer.withUnsafeMutableBytes { raw in
            var writer = BodyWriter(raw)
            request.write(to: &writer)
            return writer.count
        }
        return Array(buffer[..<count]) + extra
    }

    /// The labels a body carries, or nil when it is refused.
    static func labels(_ body: [UInt8]) -> [String]? {
        body.withUnsafeBytes { raw -> [String]? in
            guard let view = RouteRequestView(body: raw) else { return nil }
            var labels: [String] = []
            view.extensions.forEachLabel { labels.append("\($0.utf8String ?? "?")=\($1.utf8String ?? "?")") }
            var tried: [String] = []
            view.forEachTried { tried.append($0.utf8String ?? "?") }
            #expect(tried == ["payu"])
            return labels
        }
    }

    @Test func labelsReadBackInKeyOrderAndNoLabelsSendNothing() {
        #expect(Self.labels(Self.body()) == ["channel=app", "region=in"])
        var plain = Self.request
        plain.labels = [:]
        let bare = Self.body(plain)
        #expect(Self.labels(bare) == [])
        // Tag, length, count, then channel=app and region=in as str8 pairs.
        #expect(Self.body().count == bare.count + 3 + 1 + (1 + 7 + 1 + 3) + (1 + 6 + 1 + 2))
    }

    @Test func anUnknownExtensionIsSkipped() {
        #expect(Self.labels(Self.body(then: [9, 3, 0, 1, 2, 3])) == ["channel=app", "region=in"])
        #expect(Self.labels(Self.body(then: [9, 0, 0])) == ["channel=app", "region=in"])
    }

    @Test(
        arguments: [
            ("a truncated extension", [9, 3, 0, 1]),
            ("a tag without its length", [9]),
            ("labels twice", [1, 4, 0, 1, 1, 0x6B, 0]),
        ] as [(String, [UInt8])])
    func malformedExtensionsRefuseTheBody(_ name: String, _ extra: [UInt8]) {
        #expect(Self.labels(Self.body(then: extra)) == nil, "\(name)")
    }

    @Test(
        arguments: [
            ("a key twice", ["x=1", "x=2"]),
            ("an empty key", ["=1"]),
            ("a key over 32 bytes", [String(repeating: "k", count: 33) + "=1"]),
            ("a value over 64 bytes", ["k=" + String(repeating: "v", count: 65)]),
            ("17 labels", (0..<17).map { "k\($0)=v" }),
        ] as [(String, [String])])
    func badLabelsRefuseTheBody(_ name: String, _ pairs: [String]) {
        var plain = Self.request
        plain.labels = [:]
        // Written by hand: the client's dictionary cannot hold a key twice.
        let content: [UInt8] =
            [UInt8(pairs.count)]
            + pairs.flatMap { pair -> [UInt8] in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return [UInt8(parts[0].utf8.count)] + Array(parts[0].utf8) + [UInt8(parts[1].utf8.count)]
                    + Array(parts[1].utf8)
            }
        let extra = [1, UInt8(content.count & 0xFF), UInt8(content.count >> 8)] + content
        #expect(Self.labels(Self.body(plain, then: extra)) == nil, "\(name)")
    }

    @Test func sixteenLabelsAtTheLimitsRead() {
        var request = Self.request
        request.labels = Dictionary(
            uniqueKeysWithValues: (0..<16).map {
                (String(repeating: "k", count: 30) + "\($0 + 10)", String(repeating: "v", count: 64))
            })
        #expect(Self.labels(Self.body(request))?.count == 16)
    }
}
