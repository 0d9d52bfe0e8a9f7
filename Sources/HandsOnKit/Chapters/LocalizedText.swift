import HandsOnEngine
import HandsOnMessages

/// Text in one or more languages: a plain string (English) or `{"en": "...", "ja": "..."}`.
public struct LocalizedText: Sendable, Equatable, Codable {
    public let translations: [String: String]

    public init(_ english: String) { translations = ["en": english] }
    public init(translations: [String: String]) { self.translations = translations }

    /// The text in `language`, else English, else any.
    public func text(in language: Language) -> String {
        translations[language.rawValue] ?? translations["en"] ?? translations.values.sorted().first ?? ""
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let plain = try? container.decode(String.self) {
            translations = ["en": plain]
            return
        }
        guard let byLanguage = try? container.decode([String: String].self), !byLanguage.isEmpty else {
            throw DecodingError.typeMismatch(
                LocalizedText.self,
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "expected a string or an object of language codes to strings"))
        }
        translations = byLanguage
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if translations.count == 1, let english = translations["en"] {
            try container.encode(english)
        } else {
            try container.encode(translations)
        }
    }
}
