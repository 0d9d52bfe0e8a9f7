import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnMessages

/// A chapter folder made for one test, with a starter, step texts and solution files.
struct ChapterFolder {
    let root: String
    let directory: String

    init(id: String = "demo", json: String) throws {
        root =
            FileManager.default.temporaryDirectory.appendingPathComponent("handson-chapters-\(UUID().uuidString)").path
        directory = "\(root)/\(id)"
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: "\(directory)/starter", withIntermediateDirectories: true)
        try fileManager.createDirectory(atPath: "\(directory)/steps", withIntermediateDirectories: true)
        try fileManager.createDirectory(atPath: "\(directory)/solutions", withIntermediateDirectories: true)
        try "package main\n".write(toFile: "\(directory)/starter/hash.go", atomically: true, encoding: .utf8)
        try "# Build\n".write(toFile: "\(directory)/steps/build.en.md", atomically: true, encoding: .utf8)
        try "FROM scratch\n".write(toFile: "\(directory)/solutions/Dockerfile", atomically: true, encoding: .utf8)
        try json.write(toFile: "\(directory)/chapter.json", atomically: true, encoding: .utf8)
    }

    var file: String { "\(directory)/chapter.json" }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// A valid chapter, with `replace` applied to its JSON text to break it.
    static func valid(_ replacements: [(String, String)] = []) throws -> ChapterFolder {
        var json = """
            {
              "id": "demo",
              "title": {"en": "Demo", "ja": "デモ"},
              "summary": "A chapter for tests.",
              "baseImages": ["golang:1.19"],
              "starter": {"directory": "starter", "protectedFiles": ["hash.go"]},
              "steps": [
                {
                  "id": "build",
                  "title": "Build it",
                  "text": {"en": "steps/build.en.md"},
                  "commands": [["docker", "image", "build", "-t", "demo:1", "."]],
                  "checks": [
                    {"id": "exists", "kind": "imageExists", "image": "demo:1"},
                    {"id": "small", "kind": "imageTiers", "image": "demo:1",
                     "tiers": [{"maxBytes": 400000000, "score": 40}, {"maxBytes": 10000000, "score": 100}]},
                    {"id": "df", "kind": "dockerfile", "finalBase": "scratch", "pinnedTags": true}
                  ],
                  "hints": [{"text": "Build the image first.", "whenFailing": "exists"}],
                  "solution": {"files": {"Dockerfile": "solutions/Dockerfile"}}
                },
                {
                  "id": "run",
                  "title": "Run it",
                  "text": {"en": "steps/build.en.md"},
                  "needs": ["build"],
                  "checks": [{"id": "health", "kind": "http", "url": "http://127.0.0.1:9091/health", "jsonField": "status", "equals": "Healthy"}],
                  "solution": {}
                }
              ],
              "grading": {"tiers": [{"maxBytes": 10000000, "score": 100}], "gates": [
                {"id": "digest", "kind": "commandOutput", "image": "$IMAGE", "stdin": "hello", "matches": "^[0-9a-f]{64}$"}]}
            }
            """
        for (old, new) in replacements {
            precondition(json.contains(old), "test fixture lacks \(old)")
            json = json.replacingOccurrences(of: old, with: new)
        }
        return try ChapterFolder(json: json)
    }
}

@Suite("Loading and validating chapters")
struct ChapterLoaderTests {
    @Test func aValidChapterLoadsWithEverythingInIt() async throws {
        let folder = try ChapterFolder.valid()
        defer { folder.remove() }
        let chapter = try ChapterLoader.load(from: folder.directory)
        #expect(chapter.id == "demo")
        #expect(chapter.title.text(in: .ja) == "デモ")
        #expect(chapter.title.text(in: .ko) == "Demo", "a language the chapter lacks falls back to English")
        #expect(chapter.steps.map(\.id) == ["build", "run"])
        #expect(
            chapter.steps[0].checks[1].kind
                == .imageTiers(
                    image: "demo:1",
                    tiers: SizeTiers([
                        SizeTier(maxBytes: 400_000_000, score: 40), SizeTier(maxBytes: 10_000_000, score: 100),
                    ]), passScore: 1))
        #expect(chapter.steps[1].needs == ["build"])
        #expect(
            chapter.steps[1].checks[0].kind
                == .http(
                    HTTPExpectation(
                        url: "http://127.0.0.1:9091/health", status: 200,
                        jsonField: "status", equals: "Healthy", deadlineSeconds: 20)))
        #expect(chapter.grading?.basis == .displayed)
        #expect(chapter.grading?.dockerfile == "Dockerfile")
        #expect(chapter.starter.protectedFiles == ["hash.go"])
    }

    /// What a broken chapter's error names: where (a key path) and what is wrong, a catalog sentence; an unknown
    /// check kind's list of the known ones is the decoder's own text.
    static let anArray = Message(.chapterError.expected, parts: ["type": Message(.chapterError.type.array)])

    @Test(
        arguments: [
            (
                [
                    (
                        #""tiers": [{"maxBytes": 400000000, "score": 40}, {"maxBytes": 10000000, "score": 100}]"#,
                        #""tiers": 5"#
                    )
                ],
                "steps[0].checks[1].tiers", anArray
            ),
            (
                [(#""kind": "imageExists""#, #""kind": "imgExists""#)],
                "steps[0].checks[0].kind",
                Message(
                    .chapterError.unknownCheckKind, ["kind": "imgExists"],
                    parts: [
                        "known": .list(
                            [
                                "imageExists", "imageSize", "imageTiers", "containerRunning", "http", "imageServes",
                                "commandOutput", "fileUnchanged", "dockerfile", "imageContents", "imageSecurity",
                                "buildContext", "rebuild",
                            ].map(Message.literal))
                    ])
            ),
            (
                [
                    (
                        #"{"id": "exists", "kind": "imageExists", "image": "demo:1"}"#,
                        #"{"id": "exists", "kind": "imageExists"}"#
                    )
                ],
                "steps[0].checks[0].image", Message(.chapterError.missing)
            ),
            ([(#""title": "Run it","#, "")], "steps[1].title", Message(.chapterError.missing)),
            (
                [(#""needs": ["build"]"#, #""needs": ["deploy"]"#)], "steps[1].needs[0]",
                Message(.chapterError.notEarlierStep, ["id": "deploy"])
            ),
            ([(#""id": "run""#, #""id": "build""#)], "steps[1].id", Message(.chapterError.stepIDUsed, ["id": "build"])),
            (
                [(#""text": {"en": "steps/build.en.md"},"#, #""text": {"en": "steps/missing.md"},"#)],
                "steps[0].text.en", Message(.chapterError.doesNotExist, ["path": "steps/missing.md"])
            ),
            (
                [(#""solutions/Dockerfile""#, #""solutions/Nope""#)],
                "steps[0].solution.files.Dockerfile", Message(.chapterError.doesNotExist, ["path": "solutions/Nope"])
            ),
            (
                [(#""whenFailing": "exists""#, #""whenFailing": "nope""#)],
                "steps[0].hints[0].whenFailing", Message(.chapterError.notACheckOfStep, ["id": "nope"])
            ),
            (
                [(#""id": "demo""#, #""id": "other""#)], "id",
                Message(.chapterError.idMustMatchFolder, ["id": "other", "folder": "demo"])
            ),
            (
                [(#""starter": {"directory": "starter""#, #""starter": {"directory": "elsewhere""#)],
                "starter.directory", Message(.chapterError.doesNotExist, ["path": "elsewhere"])
            ),
            (
                [
                    (
                        #"{"maxBytes": 10000000, "score": 100}], "gates""#,
                        #"{"maxBytes": 10000000, "score": 150}], "gates""#
                    )
                ],
                "grading.tiers[0].score", Message(.chapterError.mustBeScore)
            ),
            (
                [(#""matches": "^[0-9a-f]{64}$""#, #""matches": "([""#)],
                "grading.gates[0].matches", Message(.chapterError.notARegex)
            ),
            (
                [(#""optional""#, "")].filter { _ in false } + [
                    (#""commands": [["docker""#, #""commands": ["docker""#),
                    (#""-t", "demo:1", "."]]"#, #""-t", "demo:1", "."]"#),
                ],
                "steps[0].commands[0]", anArray
            ),
            (
                [(#""baseImages": ["golang:1.19"]"#, #""baseImages": null"#)],
                "baseImages",
                Message(.chapterError.expectedFoundNull, parts: ["type": Message(.chapterError.type.array)])
            ),
        ] as [([(String, String)], String, Message)])
    func aBrokenChapterIsRefusedWithTheFileAndTheKeyPath(
        replacements: [(String, String)], keyPath: String, problem: Message
    ) throws {
        let folder = try ChapterFolder.valid(replacements)
        defer { folder.remove() }
        #expect(throws: ChapterError.self) { try ChapterLoader.load(from: folder.directory) }
        do {
            _ = try ChapterLoader.load(from: folder.directory)
        } catch let error as ChapterError {
            #expect(error.file == folder.file && error.keyPath == keyPath && error.problem == problem, "\(error)")
            #expect(error.description == "\(folder.file): \(keyPath): \(problem.text(in: .en))")
        }
    }

    @Test func invalidJSONIsNamedAsSuch() async throws {
        let folder = try ChapterFolder(json: "{ \"id\": \"demo\", ")
        defer { folder.remove() }
        do {
            _ = try ChapterLoader.load(from: folder.directory)
            Issue.record("loaded a broken file")
        } catch let error as ChapterError {
            #expect(error.file == folder.file && error.keyPath.isEmpty)
            #expect(
                ["chapterError.notValidJSON", "chapterError.notValidJSONDetail"].contains(error.problem.key), "\(error)"
            )
        }
    }

    @Test func loadAllKeepsGoodChaptersAndReportsBrokenOnes() async throws {
        let good = try ChapterFolder.valid()
        defer { good.remove() }
        try FileManager.default.createDirectory(atPath: "\(good.root)/broken", withIntermediateDirectories: true)
        try "[]".write(toFile: "\(good.root)/broken/chapter.json", atomically: true, encoding: .utf8)
        let (chapters, errors) = ChapterLoader.loadAll(from: good.root)
        #expect(chapters.map(\.id) == ["demo"])
        #expect(errors.map(\.description) == ["\(good.root)/broken/chapter.json: expected an object"])
    }
}

@Suite("The course's own chapters")
struct CourseChaptersTests {
    static let chaptersDirectory = Repository.root + "/Chapters"

    @Test func everyChapterLoadsAndValidates() async {
        let (chapters, errors) = ChapterLoader.loadAll(from: Self.chaptersDirectory)
        #expect(errors.isEmpty, "\(errors)")
        #expect(
            chapters.map(\.id) == [
                "build-time", "containerize-webapp", "distroless-vs-alpine", "ictsc-diet", "lightweight-base-images",
                "optimize-image", "secure-image",
            ])
        for chapter in chapters {
            #expect(chapter.steps.allSatisfy { $0.text.translations["en"] != nil }, "\(chapter.id) has English texts")
            #expect(chapter.steps.allSatisfy { !$0.checks.isEmpty }, "\(chapter.id): every step checks something")
        }
    }

    @Test(arguments: ["optimize-image", "ictsc-diet"])
    func chaptersFromJapaneseSourcesHaveEveryLanguageAndGradeLikeTheContest(id: String) async throws {
        let chapter = try ChapterLoader.load(id: id, chaptersDirectory: Self.chaptersDirectory)
        let languages = Set(Language.allCases.map(\.rawValue))
        for step in chapter.steps {
            #expect(Set(step.text.translations.keys) == languages, "\(step.id)")
            #expect(Set(step.title.translations.keys) == languages, "\(step.id)")
        }
        #expect(Set(chapter.title.translations.keys) == languages)
        #expect(chapter.grading?.sizeTiers == SizeTiers.diet)
        #expect(chapter.steps.last?.optional == true)
    }

    @Test func theDietProblemProtectsHashGoAndGatesOnTheDigest() async throws {
        let chapter = try ChapterLoader.load(id: "ictsc-diet", chaptersDirectory: Self.chaptersDirectory)
        #expect(chapter.starter.protectedFiles == ["hash.go"])
        let gates = try #require(chapter.grading?.gates)
        #expect(gates.map(\.id) == ["hash-value", "hash-go-unchanged"])
        let starter = try FileManager.default.contentsOfDirectory(atPath: StarterFiles.directory(of: chapter)).sorted()
        #expect(starter == ["Dockerfile", "Makefile", "hash.go"])
    }
}
