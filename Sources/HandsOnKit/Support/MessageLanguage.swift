/// The language HandsOn's own sentences are written in (check and grade messages, the batch report): English unless a
/// command sets another for its task, which the tasks it starts inherit (`MessageLanguage.$current.withValue("ja")`).
public enum MessageLanguage {
    /// The languages HandsOn writes its sentences in.
    public static let supported = ["en", "ja"]
    @TaskLocal public static var current = "en"
}

/// The sentence in the current task's language: the Japanese where that is `ja`, else the English.
public func localized(_ english: @autoclosure () -> String, ja japanese: @autoclosure () -> String) -> String {
    MessageLanguage.current == "ja" ? japanese() : english()
}
