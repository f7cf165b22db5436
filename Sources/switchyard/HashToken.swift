import ArgumentParser
import Foundation
import SwitchyardCore

/// `switchyard hash-token`: makes an admin token, or hashes one read from
/// standard input, and prints the form `server.admin_token_hash` stores.
struct HashToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-token",
        abstract: "Make an admin token (or hash one from standard input) for server.admin_token_hash.",
        discussion: """
            With --generate, writes a new random token (32 bytes, hex) to the file given, readable \
            by its owner only, and prints its hash. Without it, reads one token from standard input \
            and prints its hash. Give the token to switchyardctl with --token-file or \
            SWITCHYARD_ADMIN_TOKEN; the configuration holds only the hash.
            """
    )

    @Option(help: "Write a new random token to this file (it must not exist) and print its hash.")
    var generate: String?

    func run() throws {
        let token: String
        if let path = generate {
            guard !FileManager.default.fileExists(atPath: path) else {
                FileHandleStderr.write("\(path) exists: a token file is never overwritten\n")
                throw ExitCode(1)
            }
            var bytes = [UInt8](repeating: 0, count: 32)
            var random = SystemRandomNumberGenerator()
            for i in bytes.indices { bytes[i] = random.next() }
            token = bytes.map { String($0 >> 4, radix: 16) + String($0 & 0xF, radix: 16) }.joined()
            let created = FileManager.default.createFile(
                atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
            guard created else {
                FileHandleStderr.write("cannot write \(path)\n")
                throw ExitCode(1)
            }
        } else {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                FileHandleStderr.write("no token on standard input\n")
                throw ExitCode(1)
            }
            token = line
        }
        print(AdminTokenDigest(token: token).storedForm)
    }
}
