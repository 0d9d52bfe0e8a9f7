/// The learner's language: `--lang`, else `LANG` (`ja_JP.UTF-8` gives `ja`), else English.
public enum Language {
    public static func resolve(option: String?, environment: [String: String]) -> String {
        if let option, !option.isEmpty { return option }
        for key in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let value = environment[key], !value.isEmpty, value != "C", value != "POSIX" {
                return String(value.prefix { $0 != "_" && $0 != "." && $0 != "@" }).lowercased()
            }
        }
        return "en"
    }
}
