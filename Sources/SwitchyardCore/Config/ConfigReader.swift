import Yams

/// Walks one YAML mapping, reading typed fields and recording every mistake
/// with its line and column. Keys nobody asked for are reported too, since a
/// misspelt key silently falling back to a default is the worst config bug.
package final class ConfigReader {
    package let file: String
    package let path: String
    private let node: Node?
    private let pairs: [(key: String, value: Node)]
    private var used: Set<String> = []
    private let problems: ProblemList

    final class ProblemList {
        var items: [ConfigurationError.Problem] = []
    }

    /// A reader over a document's root mapping (an empty document means all defaults).
    init(root: Node?, file: String) {
        self.file = file
        self.path = ""
        self.problems = ProblemList()
        (self.node, self.pairs) = ConfigReader.entries(of: root)
        if let root, root.mapping == nil, !ConfigReader.isNull(root) {
            report(at: root, field: "", "the top level must be a mapping of sections")
        }
    }

    /// A reader over another file's root whose problems join `other`'s (a
    /// merchants file read on behalf of the main configuration).
    init(root: Node?, file: String, sharingProblemsWith other: ConfigReader) {
        self.file = file
        self.path = ""
        self.problems = other.problems
        (self.node, self.pairs) = ConfigReader.entries(of: root)
        if let root, root.mapping == nil, !ConfigReader.isNull(root) {
            report(at: root, field: "", "the top level must be a mapping")
        }
    }

    private init(node: Node?, path: String, parent: ConfigReader) {
        self.file = parent.file
        self.path = path
        self.problems = parent.problems
        (self.node, self.pairs) = ConfigReader.entries(of: node)
    }

    package var collected: [ConfigurationError.Problem] { problems.items }

    /// The keys of this mapping, in file order (for mappings keyed by name).
    package var keys: [String] { pairs.map(\.key) }

    /// A nested section; absent or null sections read as empty (all defaults).
    package func section(_ key: String) -> ConfigReader {
        let value = take(key)
        if let value, value.mapping == nil, !ConfigReader.isNull(value) {
            report(at: value, field: field(key), "expected a mapping")
            return ConfigReader(node: nil, path: field(key), parent: self)
        }
        return ConfigReader(node: value, path: field(key), parent: self)
    }

    /// An integer; `_` may separate digits (`300_000`).
    package func integer(_ key: String, default fallback: Int, in range: ClosedRange<Int>, unit: String = "") -> Int {
        number(key, default: fallback, in: range, kind: "an integer", unit: unit) {
            Int(String($0.filter { $0 != "_" }))
        }
    }

    package func boolean(_ key: String, default fallback: Bool) -> Bool {
        guard let value = take(key) else { return fallback }
        switch value.scalar?.string {
        case "true": return true
        case "false": return false
        default:
            report(at: value, field: field(key), "expected true or false, got \(describe(value))")
            return fallback
        }
    }

    package func decimal(_ key: String, default fallback: Double, in range: ClosedRange<Double>) -> Double {
        number(key, default: fallback, in: range, kind: "a number") { Double($0).flatMap { $0.isFinite ? $0 : nil } }
    }

    /// A number parsed by `parse` and checked against `range`; a refusal quotes the value as written.
    private func number<T: Comparable>(
        _ key: String, default fallback: T, in range: ClosedRange<T>, kind: String, unit: String = "",
        _ parse: (String) -> T?
    ) -> T {
        guard let value = take(key) else { return fallback }
        let suffix = unit.isEmpty ? "" : " (\(unit))"
        guard let text = value.scalar?.string, let number = parse(text) else {
            report(
                at: value, field: field(key),
                "expected \(kind) from \(range.lowerBound) to \(range.upperBound)\(suffix), got \(describe(value))")
            return fallback
        }
        guard range.contains(number) else {
            report(
                at: value, field: field(key),
                "\(text) is out of range: expected \(range.lowerBound) to \(range.upperBound)\(suffix)")
            return fallback
        }
        return number
    }

    /// A list of strings, each checked by `accept` (which returns why a value is refused, or nil).
    package func strings(_ key: String, default fallback: [String], _ accept: (String) -> String? = { _ in nil })
        -> [String]
    {
        guard let value = take(key) else { return fallback }
        guard case .sequence(let items) = value else {
            report(at: value, field: field(key), "expected a list, got \(describe(value))")
            return fallback
        }
        var result: [String] = []
        for (index, item) in items.enumerated() {
            guard let text = item.scalar?.string else {
                report(at: item, field: "\(field(key))[\(index)]", "expected a string, got \(describe(item))")
                continue
            }
            if let refusal = accept(text) {
                report(at: item, field: "\(field(key))[\(index)]", refusal)
            } else {
                result.append(text)
            }
        }
        return result
    }

    /// A list of lists of strings (tiers of gateways, first tier first).
    package func stringLists(_ key: String) -> [[String]] {
        guard let value = take(key) else { return [] }
        guard case .sequence(let items) = value else {
            report(at: value, field: field(key), "expected a list of lists, got \(describe(value))")
            return []
        }
        return items.enumerated().map { index, item in
            guard case .sequence(let names) = item else {
                report(at: item, field: "\(field(key))[\(index)]", "expected a list, got \(describe(item))")
                return []
            }
            return names.compactMap { name in
                guard let text = name.scalar?.string else {
                    report(at: name, field: "\(field(key))[\(index)]", "expected a string, got \(describe(name))")
                    return nil
                }
                return text
            }
        }
    }

    /// The line this mapping starts on (0 when unknown), to point from one entry to another.
    package var line: Int { node?.mark?.line ?? 0 }

    /// A list of mappings, one reader each (named `key[index]` in messages).
    package func list(_ key: String) -> [ConfigReader] {
        guard let value = take(key) else { return [] }
        guard case .sequence(let items) = value else {
            report(at: value, field: field(key), "expected a list, got \(describe(value))")
            return []
        }
        return items.enumerated().compactMap { index, item in
            guard item.mapping != nil else {
                report(at: item, field: "\(field(key))[\(index)]", "expected a mapping, got \(describe(item))")
                return nil
            }
            return ConfigReader(node: item, path: "\(field(key))[\(index)]", parent: self)
        }
    }

    package func string(_ key: String, default fallback: String) -> String {
        guard let value = take(key) else { return fallback }
        guard let scalar = value.scalar else {
            report(at: value, field: field(key), "expected a string, got \(describe(value))")
            return fallback
        }
        return scalar.string
    }

    /// A string that must be one of `choices`.
    package func choice(_ key: String, default fallback: String, from choices: [String]) -> String {
        guard let value = take(key) else { return fallback }
        guard let text = value.scalar?.string, choices.contains(text) else {
            report(
                at: value, field: field(key),
                "expected one of \(choices.joined(separator: ", ")), got \(describe(value))")
            return fallback
        }
        return text
    }

    /// A string checked by `parse`, whose error message is reported with the field's place.
    func parsed<T>(_ key: String, default fallback: T, _ parse: (String) -> Result<T, InvalidValue>) -> T {
        guard let value = take(key) else { return fallback }
        guard let text = value.scalar?.string else {
            report(at: value, field: field(key), "expected a string, got \(describe(value))")
            return fallback
        }
        switch parse(text) {
        case .success(let result): return result
        case .failure(let invalid):
            report(at: value, field: field(key), invalid.message)
            return fallback
        }
    }

    /// Reports a mistake found after reading, such as two fields that disagree.
    package func report(field key: String, _ message: String) {
        report(at: pairs.first(where: { $0.key == key })?.value ?? node, field: field(key), message)
    }

    /// Reports every key of this mapping that no reader asked for. Call after reading.
    package func rejectUnknownKeys(known: [String]) {
        for (key, value) in pairs where !used.contains(key) {
            let hint = known.isEmpty ? "" : " (known: \(known.joined(separator: ", ")))"
            report(at: value, field: field(key), "unknown field\(hint)")
        }
    }

    private func take(_ key: String) -> Node? {
        used.insert(key)
        guard let value = pairs.first(where: { $0.key == key })?.value else { return nil }
        return ConfigReader.isNull(value) ? nil : value
    }

    private func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func report(at node: Node?, field: String, _ message: String) {
        let mark = node?.mark
        problems.items.append(
            .init(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0, field: field, message: message))
    }

    private func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): "'\(scalar.string)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    private static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private static func entries(of node: Node?) -> (Node?, [(key: String, value: Node)]) {
        guard let mapping = node?.mapping else { return (node, []) }
        return (node, mapping.map { (key: $0.key.scalar?.string ?? "\($0.key)", value: $0.value) })
    }
}

/// Why a value was refused, in words for the person editing the file.
struct InvalidValue: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
