import Foundation
import HandsOnKitTestSupport
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnMessages
@testable import HandsOnProcesses
@testable import handson

/// Every line the learner's commands print is in the language asked: a line with words has at least one word of it
/// (commands, paths, image names, numbers and code aside).
@Suite("The learner's commands in each language")
struct CourseLanguageTests {
    /// Whether `text` has a letter of the language's script (kana or kanji; hangul); for English, no such letter.
    static func isIn(_ language: Language, _ text: String) -> Bool {
        let scalars = text.unicodeScalars
        let japanese = scalars.contains { (0x3040...0x30FF).contains($0.value) || (0x4E00...0x9FFF).contains($0.value) }
        let korean = scalars.contains { (0xAC00...0xD7A3).contains($0.value) || (0x1100...0x11FF).contains($0.value) }
        switch language {
        case .en: return !japanese && !korean
        case .ja: return japanese
        case .ko: return korean
        }
    }

    /// Lines that need no words of a language: empty, rules, code (in a block or indented as a command), a command or
    /// path alone, or symbols and numbers.
    static func needsWords(_ line: String, inCode: Bool) -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if inCode || trimmed.isEmpty || line.hasPrefix("  ") { return false }
        let words = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
        let prose = words.filter { word in
            let bare = word.trimmingCharacters(in: CharacterSet(charactersIn: "`*_()[]{}:;,.!?\"'•✓✗▶>-#|"))
            return bare.count > 1 && bare.allSatisfy(\.isLetter) && !bare.contains("/")
        }
        return prose.count >= 2
    }

    /// The lines of `output` that should be in `language` and are not.
    static func strayLines(_ output: String, language: Language) -> [String] {
        var inCode = false
        var stray: [String] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("┌") || line.contains("```") { inCode = true }
            if needsWords(line, inCode: inCode), !isIn(language, line) { stray.append(line) }
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("└") { inCode = false }
        }
        return stray
    }

    @Test(arguments: [Language.ja, .ko])
    func stepHintAndChaptersSpeakTheLanguageAsked(language: Language) async throws {
        let (chapters, _) = ChapterLoader.loadAll(from: CourseChaptersTests.chaptersDirectory)
        // A chapter is tested in the languages it declares (its title's): in another, its texts fall back to English.
        for chapter in chapters where chapter.title.translations[language.rawValue] != nil {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "handson-lang-\(UUID().uuidString)"
            ).path
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let environment = [
                "PATH": "/usr/bin:/bin", "HANDSON_HOME": BatchFixtures.repositoryRoot,
                "LANG": "\(language.rawValue).UTF-8",
            ]
            let started = await CLIRun.run(["init", chapter.id, folder], environment: environment)
            #expect(started.exitCode == 0, "\(started.stderr)")
            #expect(
                Self.strayLines(started.stdout + started.stderr, language: language).isEmpty,
                "\(chapter.id) init: \(started.stdout)")
            for command in [["step"], ["hint"], ["chapters"], ["step", "--lang", language.rawValue]] {
                let run = await CLIRun.run(command, environment: environment, directory: folder)
                let stray = Self.strayLines(run.stdout + run.stderr, language: language)
                #expect(stray.isEmpty, "\(chapter.id) \(command.joined(separator: " ")) in \(language): \(stray)")
            }
        }
    }

    /// Help is for people: it follows LANG (or `--lang`) for every command, even those whose output is for tools.
    @Test(arguments: [Language.ja, .ko])
    func everyCommandsHelpSpeaksTheLanguageAsked(language: Language) async {
        let environment = ["PATH": "/usr/bin:/bin", "LANG": "\(language.rawValue).UTF-8"]
        var topics = HandsOnCLI.commands.map(\.spec.path)
        topics.append(contentsOf: [[], ["lab"], ["parse"], ["dev"]])
        for topic in topics {
            let run = await CLIRun.run(topic + ["--help"], environment: environment)
            let help = run.stdout + run.stderr
            #expect(run.exitCode == 0, "\(topic): \(help)")
            // Option rows are indented; their texts are checked too, after the option's own column.
            let rows = help.split(separator: "\n").filter { !$0.contains("handson completion") }.map { line in
                line.hasPrefix("  ")
                    ? String(line.drop { $0 == " " }.drop { $0 != " " }).trimmingCharacters(in: .whitespaces)
                    : String(line)
            }
            let stray = Self.strayLines(rows.joined(separator: "\n"), language: language)
            #expect(stray.isEmpty, "handson \(topic.joined(separator: " ")) --help in \(language): \(stray)")
        }
        let asked = await CLIRun.run(
            ["grade", "--help", "--lang", language.rawValue], environment: ["PATH": "/usr/bin:/bin"])
        #expect(Self.isIn(language, asked.stdout), "\(asked.stdout)")
    }
}

/// The glossary (`Chapters/GLOSSARY.md`): read from its table, found where a text uses a variant, followed by the
/// message catalogs.
@Suite("The course's glossary")
struct GlossaryTests {
    static let glossary = try! Glossary.load(chaptersDirectory: CourseChaptersTests.chaptersDirectory)

    @Test func aVariantIsFoundWithItsLineAndAChosenTermThatBeginsWithItIsNot() throws {
        let glossary = try Glossary.parse(
            """
            | English | 日本語 | 한국어 | not in ja | not in ko |
            | --- | --- | --- | --- | --- |
            | folder | フォルダー (on the host), ディレクトリ | 디렉터리 | フォルダ | 디렉토리 |
            """, file: "G.md")
        #expect(glossary.terms.first?.chosen[.ja] == ["フォルダー", "ディレクトリ"])
        let findings = glossary.findings(in: "フォルダーを開き\nフォルダを閉じ、フォルダーへ", language: .ja, place: "x.md")
        #expect(findings.map(\.line) == [2])
        #expect(
            findings.first
                == Glossary.Finding(
                    place: "x.md", language: .ja, variant: "フォルダ", chosen: ["フォルダー", "ディレクトリ"], line: 2))
        let writes = "フォルダー" + english(.review.or) + "ディレクトリ"
        #expect(
            findings.first?.description
                == english(
                    .review.glossaryVariant,
                    ["place": "x.md", "line": "2", "variant": "フォルダ", "language": "ja", "chosen": writes]))
        #expect(glossary.findings(in: "작업 디렉토리", language: .ko, place: "k").count == 1)
        #expect(glossary.findings(in: "フォルダ", language: .ko, place: "k").isEmpty)
    }

    @Test func aMalformedTableNamesTheFileAndLine() {
        #expect(throws: ChapterError.self) { try Glossary.parse("| a | b |\n", file: "G.md") }
        do {
            _ = try Glossary.parse("| English | 日本語 | 한국어 | not in ja | not in ko |\n| x | | y | | |\n", file: "G.md")
            Issue.record("a row without Japanese was read")
        } catch {
            #expect(error.file == "G.md" && error.keyPath.isEmpty, "\(error)")
            #expect(
                error.problem
                    == Message(.glossary.atLine, ["line": "2"], parts: ["problem": Message(.glossary.termNeedsAll)]))
            #expect(
                error.description == "G.md: "
                    + english(.glossary.atLine, ["line": "2", "problem": english(.glossary.termNeedsAll)]))
        }
    }

    @Test(arguments: [Language.ja, .ko])
    func theCatalogsFollowTheGlossary(language: Language) {
        #expect(Self.glossary.terms.count > 40)
        var findings: [Glossary.Finding] = []
        for key in MessageCatalog.keys(of: language).sorted() {
            findings += Self.glossary.findings(
                in: MessageCatalog.template(key, in: language) ?? "", language: language, place: key)
        }
        #expect(findings.isEmpty, "\(findings.map(\.description))")
    }
}
