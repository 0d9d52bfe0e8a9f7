/// A language HandsOn speaks: its own sentences come from the catalog of that language (`Sources/HandsOnMessages/Catalogs`), a
/// chapter's texts from the chapter.
public enum Language: String, Sendable, Codable, CaseIterable, Comparable {
    case en, ja, ko

    /// The language of the current task's sentences: English unless a command sets another for its task, which the
    /// tasks it starts inherit (`Language.$current.withValue(.ja) { ... }`).
    @TaskLocal public static var current: Language = .en

    /// The language a locale setting names (`ja_JP.UTF-8` is `ja`), nil for C, POSIX or one HandsOn does not speak.
    public init?(locale: String) {
        guard !locale.isEmpty, locale != "C", locale != "POSIX" else { return nil }
        self.init(rawValue: String(locale.prefix { $0 != "_" && $0 != "." && $0 != "@" && $0 != "-" }).lowercased())
    }

    /// The learner's language from the environment: `LC_ALL`, `LC_MESSAGES`, then `LANG` (the first that is set
    /// decides, as the C library reads them); English when that is one HandsOn does not speak.
    public static func fromLocale(_ environment: [String: String]) -> Language {
        for key in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let value = environment[key], !value.isEmpty, value != "C", value != "POSIX" {
                return Language(locale: value) ?? .en
            }
        }
        return .en
    }

    /// The plural form a count takes (a CLDR category): English tells one from the rest; Japanese and Korean
    /// have one form.
    public func pluralCategory(of count: Int) -> String {
        switch self {
        case .en: return count == 1 ? "one" : "other"
        case .ja, .ko: return "other"
        }
    }

    public static func < (lhs: Language, rhs: Language) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
