import Foundation
import HandsOnEngine
import HandsOnMessages

/// What `handson dev check` asks of a chapter's languages: every text a learner reads (the chapter's title and summary,
/// each step's title and text file, each hint) exists in every language the chapter declares in its title, and each
/// step text named for a language is a file that is there and not empty.
public enum LanguageReview {
    /// The problems found, each naming the chapter, where the text is and the languages it lacks.
    /// With a glossary, also every variant a text uses where the glossary writes another term.
    public static func problems(in chapter: Chapter, glossary: Glossary? = nil) -> [String] {
        let languages = chapter.title.translations.keys.sorted()
        var problems: [String] = []
        func follow(_ text: String, _ language: String, _ place: String) {
            guard let glossary, let language = Language(rawValue: language) else { return }
            problems += glossary.findings(in: text, language: language, place: "\(chapter.id): \(place)").map(
                \.description)
        }
        func require(_ text: LocalizedText, _ place: String) {
            for (language, words) in text.translations.sorted(by: { $0.key < $1.key }) {
                follow(words, language, place)
            }
            let missing = languages.filter {
                (text.translations[$0] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            }
            if !missing.isEmpty {
                problems.append(
                    say(
                        .review.lacks,
                        ["chapter": chapter.id, "place": place, "languages": missing.joined(separator: ", ")]))
            }
        }
        for (language, words) in chapter.title.translations.sorted(by: { $0.key < $1.key }) {
            follow(words, language, say(.review.placeTitle))
        }
        require(chapter.summary, say(.review.placeSummary))
        for step in chapter.steps {
            require(step.title, say(.review.placeStepTitle, ["step": step.id]))
            // HandsOn marks an optional step itself; a title that says so too reads twice.
            let optionalWords = ["optional", "おまけ", "任意", "선택 과제"]
            if step.optional,
                let title = step.title.translations.values.first(where: { title in
                    optionalWords.contains { title.lowercased().contains($0) }
                })
            {
                problems.append(
                    say(.review.titleSaysOptional, ["chapter": chapter.id, "step": step.id, "title": title]))
            }
            for language in languages where step.text.translations[language] == nil {
                problems.append(
                    say(.review.textLacks, ["chapter": chapter.id, "step": step.id, "language": language]))
            }
            for (language, file) in step.text.translations.sorted(by: { $0.key < $1.key }) {
                let path = "\(chapter.directory)/\(file)"
                let content = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                if content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    problems.append(
                        say(
                            .review.textMissing,
                            ["chapter": chapter.id, "step": step.id, "language": language, "file": file]))
                }
                follow(content, language, file)
            }
            for (index, hint) in step.hints.enumerated() {
                require(
                    hint.text,
                    say(
                        .review.placeHint,
                        ["step": step.id, "number": "\(index + 1)", "check": hint.whenFailing ?? "any"]))
            }
        }
        return problems
    }
}
