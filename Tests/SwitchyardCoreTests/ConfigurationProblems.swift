import SwitchyardCore
import Testing

/// The problems a YAML text is refused for, named as if it were `file`;
/// records a test issue when the text is accepted.
func configurationProblems(_ yaml: String, file: String) -> [ConfigurationError.Problem] {
    do {
        _ = try Configuration.parse(yaml: yaml, file: file)
        Issue.record("expected the configuration to be refused")
        return []
    } catch {
        return error.problems
    }
}
