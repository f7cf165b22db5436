import ArgumentParser
import Foundation
import SwitchyardCore

/// `switchyard hash-key`: turns a new API key into the form the
/// configuration stores. The key is read from standard input, not from the
/// command line, where other users could see it in the process list.
struct HashKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-key",
        abstract: "Print the stored form of an API key read from standard input.",
        discussion: """
            The secret comes from \(KeySecret.fileVariable) (a file) or \(KeySecret.hexVariable) (hex digits), \
            as for the daemon; it is at least 32 bytes. One key per line; each line prints its \
            stored form (hmac-sha256:...), for a merchant's keys[].hash. Keys are never printed.
            """
    )

    func run() throws {
        let hasher: KeyHasher
        do {
            hasher = try KeyHasher(secret: KeySecret.load(environment: ProcessInfo.processInfo.environment))
        } catch let error as KeySecret.LoadError {
            FileHandleStderr.write("\(error)\n")
            throw ExitCode(1)
        }
        var count = 0
        while let line = readLine(strippingNewline: true) {
            guard !line.isEmpty else { continue }
            print(hasher.digest(of: line).storedForm)
            count += 1
        }
        if count == 0 {
            FileHandleStderr.write("no key on standard input\n")
            throw ExitCode(1)
        }
    }
}
