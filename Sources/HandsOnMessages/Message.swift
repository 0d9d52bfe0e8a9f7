import Foundation

/// A sentence HandsOn says, as a catalog key and its named values: rendered in the reader's language where it is
/// shown, so a saved result can be shown in another language and tools can match on the key.
public struct Message: Sendable, Equatable, Codable, CustomStringConvertible {
    public let key: String
    public let values: [String: String]
    /// Named values that are messages themselves, rendered in the same language as this one.
    public var parts: [String: Message]?
    /// Clauses or sentences that follow this one, rendered after it in the same language.
    public var then: [Message]?

    public init(
        _ key: MessageKey, _ values: [String: String] = [:], parts: [String: Message]? = nil, then: [Message]? = nil
    ) {
        self.key = key.rawValue
        self.values = values
        self.parts = parts
        self.then = then
    }

    /// A sentence of a plural family, `count` filling `{count}`: its form is chosen in the language it is shown in.
    public init(_ key: PluralKey, count: Int, _ values: [String: String] = [:]) {
        self.init(MessageKey(key.rawValue), values.merging(["count": "\(count)"]) { _, new in new })
    }

    /// A sentence of a plural family, its `{count}` given as text (`0.5`): a whole one chooses the form, any other
    /// count takes the `other` one.
    public init(_ key: PluralKey, _ values: [String: String]) {
        self.init(MessageKey(key.rawValue), values)
    }

    /// The key of text that is none of HandsOn's sentences (a path, an engine's own words): shown as it is.
    public static let literalKey = "literal"

    /// `text` as it is, in every language.
    public static func literal(_ text: String) -> Message { Message(MessageKey(literalKey), ["text": text]) }

    /// `first` followed by `second`.
    public static func + (first: Message, second: Message) -> Message {
        var joined = first
        joined.then = (first.then ?? []) + [second]
        return joined
    }

    /// `first` followed by `second` when there is one.
    public static func + (first: Message, second: Message?) -> Message { second.map { first + $0 } ?? first }

    /// The messages one after another, `separator` (a catalog key, "list.separator" by default) between them.
    public static func list(_ items: [Message], separator: MessageKey = .list.separator) -> Message {
        guard let first = items.first else { return .literal("") }
        return items.dropFirst().reduce(first) { $0 + Message(separator) + $1 }
    }

    /// The message with `aside` after it in parentheses, as the language writes an aside; itself when there is none.
    public func aside(_ aside: Message?) -> Message {
        aside.map { Message(.list.aside, parts: ["text": self, "aside": $0]) } ?? self
    }

    /// `text` under a label (an image, a path): "label: text" as the language writes it.
    public static func labelled(_ label: String, _ text: Message) -> Message {
        Message(.list.labelled, ["label": label], parts: ["text": text])
    }

    /// The message followed by its details ("did not answer 200: no answer"); itself when there are none.
    public func detailed(_ details: Message?) -> Message {
        details.map { Message(.list.labelled, parts: ["label": self, "text": $0]) } ?? self
    }

    /// The sentence in `language`.
    public func text(in language: Language = .current) -> String {
        var filled = values
        for (name, part) in parts ?? [:] { filled[name] = part.text(in: language) }
        let head = key == Self.literalKey ? (values["text"] ?? "") : MessageCatalog.render(key, filled, in: language)
        return head + (then ?? []).map { $0.text(in: language) }.joined()
    }

    public var description: String { text() }
}

/// The sentence `key` of the current task's language, its `{name}` placeholders filled from `values`.
public func say(_ key: MessageKey, _ values: [String: String] = [:]) -> String {
    MessageCatalog.render(key.rawValue, values, in: .current)
}

/// The sentence of a plural family in the form the current language uses for `count`, which fills `{count}`.
public func say(_ key: PluralKey, count: Int, _ values: [String: String] = [:]) -> String {
    say(key, values.merging(["count": "\(count)"]) { _, new in new })
}

/// The sentence of a plural family, its `{count}` given as text (`0.5`): a whole one chooses the form, any other
/// count takes the `other` one.
public func say(_ key: PluralKey, _ values: [String: String]) -> String {
    MessageCatalog.render(key.rawValue, values, in: .current)
}

/// A sentence that changes with a number: the catalogs hold `<key>.one` and `<key>.other` (each language's forms;
/// one form serves Japanese and Korean), and the form is chosen where the message is shown, in its language.
public struct PluralKey: Sendable, Hashable {
    public let rawValue: String

    init(_ rawValue: String) { self.rawValue = rawValue }
}

/// A sentence's key in the catalogs. Every key is a member chain generated from `Catalogs/en.json`
/// (`MessageKey+Catalog.swift`, `make message-keys`), so a key no catalog has does not compile:
/// `Message(.serveCheck.answersOnLoopbackOnly, [...])`.
public struct MessageKey: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String

    init(_ rawValue: String) { self.rawValue = rawValue }

    /// A key put together at run time (`help.<command>.summary`): the compiler cannot check it, tests do.
    public static func composed(_ rawValue: String) -> MessageKey { MessageKey(rawValue) }

    public var description: String { rawValue }
}

/// The message catalogs: one keyed JSON file per language (`Sources/HandsOnMessages/Catalogs/<language>.json`, built into the
/// binary), `{"key": "sentence with {name} placeholders"}`. A key missing from a language falls back to English.
public enum MessageCatalog {
    // Each catalog is read the first time its language is asked for: a process that speaks English reads one.
    private static let english = parse(PackageResources.en_json)
    private static let japanese = parse(PackageResources.ja_json)
    private static let korean = parse(PackageResources.ko_json)

    private static func parse(_ bytes: [UInt8]) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(bytes))) ?? [:]
    }

    static func table(_ language: Language) -> [String: String] {
        switch language {
        case .en: return english
        case .ja: return japanese
        case .ko: return korean
        }
    }

    /// Every key of a language's catalog.
    public static func keys(of language: Language) -> Set<String> { Set(table(language).keys) }

    /// The template for `key` in `language`, else English; nil for a key no catalog has.
    public static func template(_ key: String, in language: Language) -> String? {
        table(language)[key] ?? english[key]
    }

    static func render(_ key: String, _ values: [String: String], in language: Language) -> String {
        if let template = template(key, in: language) { return fill(template, values) }
        // A plural family (`key.one`, `key.other`): the form the language uses for `{count}`.
        let category = language.pluralCategory(of: values["count"].flatMap { Int($0) } ?? 0)
        guard let template = template("\(key).\(category)", in: language) ?? template("\(key).other", in: language)
        else { return key }
        return fill(template, values)
    }

    /// Replaces each `{name}` with its value; a name with no value stays as it is. `{name^}` begins the value with a
    /// capital letter (English, where it starts a sentence).
    static func fill(_ template: String, _ values: [String: String]) -> String {
        guard template.contains("{") else { return template }
        var result = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let name = String(rest[rest.index(after: open)..<close])
            if name.hasSuffix("^"), let value = values[String(name.dropLast())] {
                result += value.prefix(1).uppercased() + value.dropFirst()
            } else {
                result += values[name] ?? "{\(name)}"
            }
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    /// The placeholders a template names.
    public static func placeholders(in template: String) -> Set<String> {
        var names = Set<String>()
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            let name = rest[rest.index(after: open)..<close]
            names.insert(String(name.hasSuffix("^") ? name.dropLast() : name))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// Items joined as a list in `language` ("a, b" in English, "a、b" in Japanese).
    public static func list(_ items: [String], in language: Language = .current) -> String {
        items.joined(separator: render("list.separator", [:], in: language))
    }
}

/// An error that says what went wrong as a catalog sentence, rendered in the reader's language where it is shown.
public protocol MessageError: Error, CustomStringConvertible {
    var message: Message { get }
}

extension MessageError {
    public var description: String { message.text() }
}

extension Message {
    /// What `error` says: its sentence when it has one, else its own words as they are.
    public init(describing error: any Error) {
        self = (error as? any MessageError)?.message ?? .literal("\(error)")
    }
}
