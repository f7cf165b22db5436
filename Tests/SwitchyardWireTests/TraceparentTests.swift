import SwitchyardWire
import Testing

/// The `traceparent` extension (tag 3): W3C Trace Context's form is checked,
/// and the trace and parent ids read back.
@Suite struct TraceparentTests {
    static let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    static func extensions(_ traceparent: String?) -> (trace: String, parent: String)? {
        var request = AuthorizeRequest(merchantID: "m_1", credential: "k")
        request.traceparent = traceparent
        var buffer = [UInt8](repeating: 0, count: 1_024)
        let count = buffer.withUnsafeMutableBytes { raw in
            var writer = BodyWriter(raw)
            request.write(to: &writer)
            return writer.count
        }
        return buffer[..<count].withUnsafeBytes { raw in
            AuthorizeRequestView(body: raw).map {
                ($0.extensions.traceID.utf8String ?? "?", $0.extensions.parentID.utf8String ?? "?")
            }
        }
    }

    @Test func aTraceparentReadsBackAsItsIds() throws {
        let ids = try #require(Self.extensions(Self.valid))
        #expect(ids.trace == "4bf92f3577b34da6a3ce929d0e0e4736" && ids.parent == "00f067aa0ba902b7")
        let none = try #require(Self.extensions(nil))
        #expect(none.trace.isEmpty && none.parent.isEmpty)
        // A later version may carry more fields after a dash.
        #expect(Self.extensions("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-next") != nil)
    }

    @Test(arguments: [
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero parent id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // version 00 with more
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short trace id
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // wrong separator
        "",
    ])
    func aMalformedTraceparentRefusesTheBody(_ text: String) {
        #expect(Self.extensions(text) == nil, "\(text)")
    }
}
