/// Everything wrong with a configuration file, each mistake with its place.
/// Validation goes on past the first problem, so one run of
/// `switchyard --check` lists them all.
public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public struct Problem: Equatable, Sendable, CustomStringConvertible {
        public let file: String
        public let line: Int
        public let column: Int
        /// The dotted path of the field, such as `server.max_connections`.
        public let field: String
        public let message: String

        public var description: String {
            let place = line > 0 ? "\(file):\(line):\(column)" : file
            return field.isEmpty ? "\(place): \(message)" : "\(place): \(field): \(message)"
        }
    }

    public let problems: [Problem]

    public init(problems: [Problem]) { self.problems = problems }

    public init(file: String, message: String) {
        problems = [Problem(file: file, line: 0, column: 0, field: "", message: message)]
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
