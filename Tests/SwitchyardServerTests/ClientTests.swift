import Glibc
import SwitchyardClient
import SwitchyardCore
import SwitchyardPosix
import SwitchyardServer
import SwitchyardTesting
import SwitchyardWire
import Testing

@Suite struct ClientTests {
    @Test func aClientReconnectsAfterTheServerClosedItsConnection() throws {
        let server = try TestServer { $0.server.idleTimeoutMilliseconds = 100 }
        let client = try Client(address: server.address)
        #expect(try client.ping(payload: [1]) == [1])
        try waitUntilClosedByIdleSweep(server)
        #expect(try client.ping(payload: [2]) == [2], "retried on a fresh connection")
        #expect(client.reconnectCount == 1)
    }

    @Test func aNonIdempotentCallIsNotRetried() throws {
        let server = try TestServer { $0.server.idleTimeoutMilliseconds = 100 }
        let client = try Client(address: server.address)
        try client.ping()
        try waitUntilClosedByIdleSweep(server)
        #expect(
            throws: ClientError.server(
                status: .idleTimeout, message: "connection closed after the idle timeout", closing: true)
        ) {
            try client.call(.ping, idempotent: false)
        }
        #expect(try client.call(.ping, idempotent: false).header.status == .ok, "the next call connects again")
    }

    /// The idle sweep runs four times a second; wait (bounded) until it has
    /// closed the server's side of every connection.
    func waitUntilClosedByIdleSweep(_ server: TestServer) throws {
        for _ in 0..<500 where server.server.connectionCount > 0 { usleep(10_000) }
        try #require(server.server.connectionCount == 0)
    }

    @Test func connectingToNothingFailsFastWithATypedError() throws {
        let port = try TestServer().port  // bound, then released when the server goes away
        let client = try Client(address: "127.0.0.1:\(port)")
        do {
            try client.ping()
            Issue.record("expected a connect error")
        } catch {
            guard case .connect(let cause) = error else {
                Issue.record("expected .connect, got \(error)")
                return
            }
            #expect(cause.errno == ECONNREFUSED)
        }
    }

    @Test func badAddressesAreRefusedBeforeConnecting() {
        #expect(throws: ClientError.self) { try Client(address: "not-an-address") }
        #expect(throws: ClientError.self) { try Connection(to: "127.0.0.1:99999") }
    }
}
