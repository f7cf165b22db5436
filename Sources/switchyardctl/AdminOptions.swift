import ArgumentParser
import Foundation
import SwitchyardClient
import SwitchyardWire

/// What every subcommand shares: where the daemon is, the admin token, and
/// whether to print JSON.
struct AdminOptions: ParsableArguments {
    @Option(help: "The daemon's protocol address (host:port); default $SWITCHYARD_ADDRESS or 127.0.0.1:7400.")
    var address: String?

    @Option(
        help:
            "A file holding the admin token; default $SWITCHYARD_ADMIN_TOKEN_FILE, or the token in $SWITCHYARD_ADMIN_TOKEN."
    )
    var tokenFile: String?

    @Flag(help: "Print the daemon's JSON reply instead of a table.")
    var json = false

    @Option(help: "How long to wait for the daemon, in milliseconds.")
    var timeoutMs: Int = 5_000

    static let environment = ProcessInfo.processInfo.environment

    /// The token, or the exit for a missing one.
    func token() throws -> String {
        let path =
            tokenFile ?? AdminOptions.environment["SWITCHYARD_ADMIN_TOKEN_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        if let path {
            guard let data = FileManager.default.contents(atPath: path),
                let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
                !text.isEmpty
            else { throw Failure(.permission, "cannot read an admin token from \(path)") }
            return text
        }
        guard let token = AdminOptions.environment["SWITCHYARD_ADMIN_TOKEN"], !token.isEmpty else {
            throw Failure(
                .permission,
                "no admin token: give --token-file, or set SWITCHYARD_ADMIN_TOKEN_FILE or SWITCHYARD_ADMIN_TOKEN")
        }
        return token
    }

    /// Sends one admin operation and returns the JSON reply, or throws the
    /// failure with its exit code.
    func call(_ operation: AdminRequest.Operation, client existing: Client? = nil) throws -> [UInt8] {
        let token = try token()
        let target = address ?? AdminOptions.environment["SWITCHYARD_ADDRESS"] ?? "127.0.0.1:7400"
        do {
            let client = try existing ?? connect(target)
            return try client.admin(AdminRequest(token: token, operation: operation))
        } catch {
            throw Failure(error, address: target)
        }
    }

    func connect(_ target: String? = nil) throws(ClientError) -> Client {
        var options = Client.Options()
        options.replyTimeoutMilliseconds = timeoutMs
        options.connectTimeoutMilliseconds = Int32(clamping: timeoutMs)
        return try Client(
            address: target ?? address ?? AdminOptions.environment["SWITCHYARD_ADDRESS"] ?? "127.0.0.1:7400",
            options: options)
    }

    /// Prints the reply: as received with --json, else through `human`.
    func show<Reply: Decodable>(_ bytes: [UInt8], as type: Reply.Type, _ human: (Reply) -> String) throws {
        if json {
            print(String(decoding: bytes, as: UTF8.self))
            return
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            print(human(try decoder.decode(Reply.self, from: Data(bytes))))
        } catch {
            throw Failure(.software, "the daemon's reply is not the expected document: \(error)")
        }
    }
}

/// A failed command: the message for standard error and the exit code
/// scripts act on (docs/operations.md lists them).
struct Failure: Error, CustomStringConvertible {
    enum Code: Int32 {
        /// The daemon refused the request: a bad value, an unknown name, a broken file.
        case refused = 65
        /// The daemon could not be reached, or went away.
        case unavailable = 69
        /// A bug on one side: a reply that does not parse.
        case software = 70
        /// A fleet change Redis did not confirm: it may still apply.
        case unconfirmed = 75
        /// No token, a wrong token, or admin operations turned off.
        case permission = 77
    }

    let code: Code
    let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    init(_ error: any Error, address: String) {
        guard let error = error as? ClientError else {
            self.init(.software, "\(error)")
            return
        }
        switch error {
        case .server(let status, let message, _):
            switch status {
            case .adminDisabled, .adminTokenRejected: self.init(.permission, "\(status.name): \(message)")
            case .internalError, .malformedBody, .unknownOpcode, .invalidHeader:
                self.init(.software, "\(status.name): \(message)")
            case .shuttingDown, .tooManyConnections: self.init(.unavailable, "\(status.name): \(message)")
            case .changeUnconfirmed: self.init(.unconfirmed, "\(status.name): \(message)")
            default: self.init(.refused, "\(status.name): \(message)")
            }
        case .invalidAddress(let problem): self.init(.refused, "bad address '\(address)': \(problem)")
        case .protocolViolation(let what): self.init(.software, "protocol violation: \(what)")
        default: self.init(.unavailable, "cannot reach switchyard at \(address): \(error)")
        }
    }

    var description: String { message }
}
