import HandsOnMessages

/// What tests assert of HandsOn's own sentences: their keys and values, the wording left to the catalogs, so a
/// reworded or translated sentence breaks no test.
extension Message {
    /// Every key the message holds: its own, its parts' and those of the sentences after it.
    public var allKeys: [String] {
        [key] + (parts ?? [:]).values.flatMap(\.allKeys) + (then ?? []).flatMap(\.allKeys)
    }

    /// The message and every message in its parts and in the sentences after it, each as it is: what a test searches
    /// for one sentence with its values (`reason.allMessages.contains { $0.key == ... && $0.values == [...] }`).
    public var allMessages: [Message] {
        [self] + (parts ?? [:]).values.flatMap(\.allMessages) + (then ?? []).flatMap(\.allMessages)
    }

    /// Whether the message or one in its parts or following sentences is `key` with `values` (all of its values).
    public func contains(_ key: MessageKey, _ values: [String: String]) -> Bool {
        allMessages.contains { $0.key == key.rawValue && $0.values == values }
    }

    /// The value named `name`, in the message or in any of its parts or following sentences.
    public func value(_ name: String) -> String? {
        values[name] ?? (parts ?? [:]).values.lazy.compactMap { $0.value(name) }.first
            ?? (then ?? []).lazy.compactMap { $0.value(name) }.first
    }
}

/// The English sentence `key` with `values` filled in, as the catalog writes it: what a test of printed output
/// looks for, naming the sentence by its key.
public func english(_ key: MessageKey, _ values: [String: String] = [:]) -> String {
    Message(key, values).text(in: .en)
}

/// The English sentence of a plural family for `count`.
public func english(_ key: PluralKey, count: Int, _ values: [String: String] = [:]) -> String {
    Message(key, count: count, values).text(in: .en)
}

/// The English sentence `key` up to the placeholder `name` (which is not filled): for output whose later values
/// (a time, an attempt count) a test cannot know.
public func english(_ key: MessageKey, _ values: [String: String] = [:], before name: String) -> String {
    let text = english(key, values)
    return text.range(of: "{\(name)}").map { String(text[..<$0.lowerBound]) } ?? text
}

/// The English sentence `key` from after the placeholder `name` (which is not filled): for output whose earlier values
/// (what an engine said) a test cannot know.
public func english(_ key: MessageKey, _ values: [String: String] = [:], after name: String) -> String {
    let text = english(key, values)
    return text.range(of: "{\(name)}").map { String(text[$0.upperBound...]) } ?? text
}

/// The English sentence of a plural family for `count`, up to the placeholder `name` (which is not filled).
public func english(_ key: PluralKey, count: Int, _ values: [String: String] = [:], before name: String) -> String {
    let text = english(key, count: count, values)
    return text.range(of: "{\(name)}").map { String(text[..<$0.lowerBound]) } ?? text
}

/// The English sentence `key` between the placeholders `first` and `second` (neither filled): for output whose values
/// at both ends (an engine's name, why) a test cannot know.
public func english(
    _ key: MessageKey, _ values: [String: String] = [:], after first: String, before second: String
) -> String {
    let text = english(key, values, after: first)
    return text.range(of: "{\(second)}").map { String(text[..<$0.lowerBound]) } ?? text
}
