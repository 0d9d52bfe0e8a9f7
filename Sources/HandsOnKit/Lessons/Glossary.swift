import Foundation
import HandsOnEngine
import HandsOnMessages

/// The course's terms per language, read from `Chapters/GLOSSARY.md`: for each term the form to write in Japanese and
/// Korean and the variants a text must not use instead.
public struct Glossary: Sendable, Equatable {
    public struct Term: Sendable, Equatable {
        public let english: String
        /// The chosen forms per language (a cell may name more than one, each with a note in parentheses).
        public let chosen: [Language: [String]]
        /// The variants that must not appear, per language.
        public let avoided: [Language: [String]]
    }

    /// A variant found in a text: where, which, and what to write instead.
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        public let place: String
        public let language: Language
        public let variant: String
        public let chosen: [String]
        /// The line of the text where it appears (1-based).
        public let line: Int

        public var description: String {
            say(
                .review.glossaryVariant,
                [
                    "place": place, "line": "\(line)", "variant": variant, "language": language.rawValue,
                    "chosen": chosen.joined(separator: say(.review.or)),
                ])
        }
    }

    public let terms: [Term]

    public init(terms: [Term]) { self.terms = terms }

    /// Reads the glossary's table: a header row naming the languages (`English | 日本語 | 한국어 | not in ja | not in ko`),
    /// then one term a row. A malformed row names its line.
    public static func parse(_ markdown: String, file: String) throws(ChapterError) -> Glossary {
        /// "line 3: problem", the line named in the reader's language.
        func atLine(_ line: Int, _ problem: Message) -> Message {
            Message(.glossary.atLine, ["line": "\(line)"], parts: ["problem": problem])
        }
        var terms: [Term] = []
        var sawHeader = false
        for (index, rawLine) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("|") else { continue }
            let cells = line.dropFirst().split(separator: "|", omittingEmptySubsequences: false).dropLast().map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            if !sawHeader {
                guard cells.count == 5, cells[3] == "not in ja", cells[4] == "not in ko" else {
                    throw ChapterError(
                        file: file, keyPath: "", problem: atLine(index + 1, Message(.glossary.expectedHeader)))
                }
                sawHeader = true
                continue
            }
            if cells.allSatisfy({ $0.allSatisfy { $0 == "-" } }) { continue }
            guard cells.count == 5, !cells[0].isEmpty, !cells[1].isEmpty, !cells[2].isEmpty else {
                throw ChapterError(
                    file: file, keyPath: "", problem: atLine(index + 1, Message(.glossary.termNeedsAll)))
            }
            terms.append(
                Term(
                    english: cells[0], chosen: [.ja: forms(cells[1]), .ko: forms(cells[2])],
                    avoided: [.ja: forms(cells[3]), .ko: forms(cells[4])]))
        }
        guard sawHeader else {
            throw ChapterError(file: file, keyPath: "table", problem: Message(.glossary.noTable))
        }
        return Glossary(terms: terms)
    }

    /// Reads `GLOSSARY.md` of a chapters folder.
    public static func load(chaptersDirectory: String) throws(ChapterError) -> Glossary {
        let file = "\(chaptersDirectory)/GLOSSARY.md"
        guard let markdown = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ChapterError(file: file, keyPath: "", problem: Message(.chapterError.cannotBeRead))
        }
        return try parse(markdown, file: file)
    }

    /// The forms of a cell: split at commas, notes in parentheses and code quotes left out.
    static func forms(_ cell: String) -> [String] {
        cell.split(separator: ",").map { form in
            var text = String(form)
            while let open = text.firstIndex(of: "("), let close = text[open...].firstIndex(of: ")") {
                text.removeSubrange(open...close)
            }
            return text.replacingOccurrences(of: "`", with: "").trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
    }

    /// The variants `text` (in `language`) uses where the glossary writes another term. A variant that begins a chosen
    /// term (`フォルダ` of `フォルダー`) counts only where that term does not start.
    public func findings(in text: String, language: Language, place: String) -> [Finding] {
        var found: [Finding] = []
        for term in terms {
            let chosen = term.chosen[language] ?? []
            for variant in term.avoided[language] ?? [] {
                var searchStart = text.startIndex
                while let range = text.range(of: variant, range: searchStart..<text.endIndex) {
                    searchStart = range.upperBound
                    let rest = text[range.lowerBound...]
                    if chosen.contains(where: { $0.hasPrefix(variant) && rest.hasPrefix($0) }) { continue }
                    let line = text[..<range.lowerBound].reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
                    found.append(
                        Finding(place: place, language: language, variant: variant, chosen: chosen, line: line))
                }
            }
        }
        return found
    }
}
