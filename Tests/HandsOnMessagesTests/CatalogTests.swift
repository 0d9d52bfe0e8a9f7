import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnMessages

/// The message catalogs: complete in every language, and what the learner's commands print is in the language asked.
@Suite("Message catalogs")
struct CatalogTests {
    /// The repository's `Sources`, where the code names its keys.
    static let sources = Repository.root + "/Sources"

    /// The prefixes of keys put together at run time: `.composed("security.kind.\\(kind)")` gives `security.kind.`.
    static func composedPrefixes() throws -> Set<String> {
        var prefixes = Set<String>()
        let pattern = try NSRegularExpression(pattern: #"\.composed\(\s*"([a-zA-Z][\w.]*)\\\("#)
        let enumerator = FileManager.default.enumerator(atPath: sources)
        while let path = enumerator?.nextObject() as? String {
            guard path.hasSuffix(".swift") else { continue }
            let text = try String(contentsOfFile: "\(sources)/\(path)", encoding: .utf8)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let range = Range(match.range(at: 1), in: text) { prefixes.insert(String(text[range])) }
            }
        }
        return prefixes
    }

    /// The code names keys by member chains generated from the English catalog (`make message-keys`), so a key that
    /// is not there does not compile; the generated list must be the catalog's, no more and no less.
    @Test func theGeneratedKeysAreTheCatalogs() {
        #expect(Set(MessageKey.generatedKeys) == MessageCatalog.keys(of: .en), "stale: run make message-keys")
        #expect(MessageKey.serveCheck.answersOnLoopbackOnly.rawValue == "serveCheck.answersOnLoopbackOnly")
        #expect(MessageKey.help.parse.imageLs.summary.rawValue == "help.parse.image-ls.summary")
    }

    /// A plural family takes each language's form for its count, chosen where it is shown: a saved message shows
    /// "1 finding" in English and one form in Japanese.
    @Test func aCountTakesTheFormOfTheLanguageItIsShownIn() {
        #expect(Message(.grader.findingsShown, count: 1).text(in: .en) == "1 finding")
        #expect(Message(.grader.findingsShown, count: 2).text(in: .en) == "2 findings")
        #expect(Message(.grader.findingsShown, count: 0).text(in: .en) == "0 findings")
        let one = Message(.grader.findingsShown, count: 1)
        #expect(one.key == "grader.findingsShown" && one.values["count"] == "1")
        #expect(
            one.text(in: .ja)
                == MessageCatalog.template("grader.findingsShown.other", in: .ja)?.replacingOccurrences(
                    of: "{count}", with: "1"))
        #expect(say(.limits.part.cpus, ["count": "0.5"]) == "0.5 CPUs")
        #expect(say(.limits.part.cpus, ["count": "1"]) == "1 CPU")
        #expect(Language.ko.pluralCategory(of: 1) == "other")
    }

    /// An error that carries its sentence is shown in the reader's language inside a grade's reason, even when the
    /// reason was made in another; an error with none shows its own words.
    @Test func anErrorsSentenceIsRenderedInTheLanguageOfItsReader() {
        struct NotFound: MessageError {
            var message: Message { Message(.error.process.executableNotFound, ["name": "docker"]) }
        }
        let reason = Language.$current.withValue(.en) {
            Message(.grader.engineFailed, parts: ["error": Message(describing: NotFound())])
        }
        let japanese = MessageCatalog.fill(
            MessageCatalog.template("error.process.executableNotFound", in: .ja) ?? "", ["name": "docker"])
        #expect(reason.text(in: .ja).contains(japanese))
        #expect(reason.parts?["error"]?.key == "error.process.executableNotFound")
        struct Plain: Error {}
        #expect(Message(describing: Plain()).key == Message.literalKey)
    }

    /// A key put together at run time is one of a family the catalog has.
    @Test func everyComposedKeyNamesAFamilyOfTheCatalog() throws {
        let prefixes = try Self.composedPrefixes()
        #expect(prefixes.count >= 5)
        let keys = MessageCatalog.keys(of: .en)
        for prefix in prefixes.sorted() {
            #expect(keys.contains { $0.hasPrefix(prefix) }, "no key begins with \(prefix)")
        }
    }

    @Test(arguments: [Language.ja, .ko])
    func everyLanguageHasEveryKeyWithTheSamePlaceholders(language: Language) {
        let english = MessageCatalog.keys(of: .en)
        let translated = MessageCatalog.keys(of: language)
        #expect(
            english.subtracting(translated).isEmpty, "\(language): missing \(english.subtracting(translated).sorted())")
        #expect(
            translated.subtracting(english).isEmpty,
            "\(language): not in English \(translated.subtracting(english).sorted())")
        for key in english.intersection(translated).sorted() {
            let englishNames = MessageCatalog.placeholders(in: MessageCatalog.template(key, in: .en) ?? "")
            let names = MessageCatalog.placeholders(in: MessageCatalog.template(key, in: language) ?? "")
            #expect(names == englishNames, "\(language) \(key): \(names.sorted()) vs \(englishNames.sorted())")
        }
    }

    @Test func placeholdersAreFilledByNameAndAnUnknownKeyShowsItself() {
        #expect(MessageCatalog.fill("{a} and {b}, {a}", ["a": "x", "b": "y"]) == "x and y, x")
        #expect(MessageCatalog.fill("{a} {missing}", ["a": "x"]) == "x {missing}")
        #expect(MessageCatalog.fill("no braces", ["a": "x"]) == "no braces")
        #expect(MessageCatalog.fill("{unclosed", [:]) == "{unclosed")
        #expect(Message(.composed("no.such.key")).text(in: .ja) == "no.such.key")
        let limit = Message(.buildLimits.buildWasStoppedMemory, ["binary": "1GiB"])
        #expect(limit.text(in: .en) == "the build was stopped by its memory limit (1GiB): a RUN step used all of it")
        #expect(limit.text(in: .ja).contains("1GiB") && limit.text(in: .ja) != limit.text(in: .en))
        #expect(MessageCatalog.list(["a", "b"], in: .en) == "a, b")
        #expect(MessageCatalog.list(["a", "b"], in: .ja) == "a、b")
    }
}
