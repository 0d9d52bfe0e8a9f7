import Foundation

/// What `handson dev check` asks of a chapter's languages: every text a learner reads (the chapter's title and summary,
/// each step's title and text file, each hint) exists in every language the chapter declares in its title, and each
/// step text named for a language is a file that is there and not empty.
public enum LanguageReview {
    /// The problems found, each naming the chapter, where the text is and the languages it lacks.
    public static func problems(in chapter: Chapter) -> [String] {
        let languages = chapter.title.translations.keys.sorted()
        var problems: [String] = []
        func require(_ text: LocalizedText, _ place: String) {
            let missing = languages.filter {
                (text.translations[$0] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            }
            if !missing.isEmpty { problems.append("\(chapter.id): \(place) lacks \(missing.joined(separator: ", "))") }
        }
        require(chapter.summary, "the summary")
        for step in chapter.steps {
            require(step.title, "\(step.id): the title")
            require(step.text, "\(step.id): the text")
            for (language, file) in step.text.translations.sorted(by: { $0.key < $1.key }) {
                let path = "\(chapter.directory)/\(file)"
                let content = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                if content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    problems.append("\(chapter.id): \(step.id): the \(language) text \(file) is missing or empty")
                }
            }
            for (index, hint) in step.hints.enumerated() {
                require(hint.text, "\(step.id): hint \(index + 1) (for '\(hint.whenFailing ?? "any")')")
            }
        }
        return problems
    }
}
