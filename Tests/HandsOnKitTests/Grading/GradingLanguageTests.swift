import Foundation
import HandsOnKitTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnMessages

/// `grade` and `batch` (and the reports a batch writes) in each language: a line with words has a word of it.
/// The engine and the grading effects are fakes, as in `GradingCoreTests`.
@Suite("Grades and batches in each language")
struct GradingLanguageTests {
    static let course = URL(fileURLWithPath: GradingCoreTests.chapters).deletingLastPathComponent().path

    @Test(arguments: [Language.ja, .ko])
    func gradeAndBatchSpeakTheLanguageAsked(language: Language) async throws {
        let folder = try GradingCoreTests.classFolder(["ann": 5_000_000, "bob": 50_000_000, "cy": 5_000_000])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "".write(toFile: "\(folder)/cy/broken", atomically: true, encoding: .utf8)
        let runner = FakeDockerCLI()
        let effects = GradingEffects(
            host: GradingCoreTests.host, confinements: FakeConfinements(), now: { Date() })
        let environment = ["PATH": "/usr/bin:/bin", "HANDSON_HOME": Self.course]
        let lang = ["--lang", language.rawValue]
        func run(_ arguments: [String]) async -> CLIRun {
            await CLIRun.run(arguments + lang, runner: runner, environment: environment, gradingEffects: effects)
        }
        for answer in ["ann", "bob", "cy"] {
            let graded = await run(["grade", "--chapter", "build-limits", "\(folder)/\(answer)"])
            #expect(graded.exitCode == 0, "\(graded.stderr)")
            let stray = Self.strayLines(graded.stdout + graded.stderr, language: language)
            #expect(stray.isEmpty, "grade \(answer) in \(language): \(stray)")
        }
        // `grade --json`: every check with its reason's key, its message in the language asked.
        let json = await run(["grade", "--chapter", "build-limits", "\(folder)/bob", "--json"])
        let graded = try JSONDecoder().decode(GradeReport.self, from: Data(json.stdout.utf8))
        #expect(graded.checks.allSatisfy { $0.reason != nil }, "\(json.stdout)")
        let size = try #require(graded.checks.first { $0.id == .size })
        #expect(size.reason?.then?.first?.key == "sizeTiers.labelGivesScore")
        #expect(CourseLanguageTests.isIn(language, size.message), "\(size.message)")
        let reports = "\(folder)/reports"
        let batch = await run(["batch", "--chapter", "build-limits", folder, "--out", reports, "--jobs", "2"])
        #expect(batch.exitCode == 0, "\(batch.stderr)")
        let stray = Self.strayLines(batch.stdout + batch.stderr, language: language)
        #expect(stray.isEmpty, "batch in \(language): \(stray)")
        for page in ["report.html", "scoreboard.html"] {
            let html = try String(contentsOfFile: "\(reports)/\(page)", encoding: .utf8)
            let text = Self.visibleLines(html)
            let strayText = Self.strayLines(text, language: language)
            #expect(strayText.isEmpty, "\(page) in \(language): \(strayText)")
        }
    }

    @Test(arguments: [Language.ja, .ko])
    func doctorSpeaksTheLanguageOfTheLocale(language: Language) async throws {
        let environment = ["PATH": "/usr/bin:/bin", "HANDSON_HOME": Self.course, "LANG": "\(language.rawValue).UTF-8"]
        let doctor = await CLIRun.run(["doctor"], runner: FakeDockerCLI(), environment: environment)
        let stray = Self.strayLines(doctor.stdout + doctor.stderr, language: language)
        #expect(stray.isEmpty, "doctor in \(language): \(stray)")
        #expect(doctor.stdout.contains("26.1.5"), "\(doctor.stdout)")
    }

    /// Names are no words of a language: the answers', the checks' and the fixture chapter's title (English only).
    static let names = ["Build limits (test fixture)", "prints-ok", "builds", "size", "ann", "bob", "cy"]

    static func strayLines(_ output: String, language: Language) -> [String] {
        let untitled = output.replacingOccurrences(of: "Build limits (test fixture)", with: "")
        let unnamed = names.dropFirst().reduce(untitled) { text, name in
            text.replacingOccurrences(
                of: "\\b\(NSRegularExpression.escapedPattern(for: name))\\b", with: "", options: .regularExpression)
        }
        return CourseLanguageTests.strayLines(unnamed, language: language)
    }

    /// The text a reader sees on a page: tags, scripts and styles taken out, one line per run of text.
    static func visibleLines(_ html: String) -> String {
        var text = html
        for block in ["script", "style"] {
            while let open = text.range(of: "<\(block)"),
                let close = text.range(of: "</\(block)>", range: open.upperBound..<text.endIndex)
            {
                text.removeSubrange(open.lowerBound..<close.upperBound)
            }
        }
        return text.replacingOccurrences(of: "<[^>]*>", with: "\n", options: .regularExpression)
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .joined(separator: "\n")
    }
}

/// The learner's other commands, and errors, in each language: check, reset, run, size, lab list, probe and parse with
/// a fake engine, and the errors a learner or an organizer meets (an unknown chapter, a damaged progress file, a
/// listing that cannot be read, a bad address), asked with `--lang` or by LANG.
@Suite("The other commands and errors in each language")
struct CommandLanguageTests {
    @Test(arguments: [Language.ja, .ko])
    func learnerCommandsAndErrorsSpeakTheLanguageAsked(language: Language) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-commands-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let environment = [
            "PATH": "/usr/bin:/bin", "HANDSON_HOME": BatchFixtures.repositoryRoot, "LANG": "\(language.rawValue).UTF-8",
            "HANDSON_CACHE_DIR": folder + "-cache",
        ]
        defer { try? FileManager.default.removeItem(atPath: folder + "-cache") }
        let runner = FakeDockerCLI()
        func run(_ arguments: [String], in directory: String? = nil) async -> CLIRun {
            await CLIRun.run(arguments, runner: runner, environment: environment, directory: directory ?? folder)
        }
        let started = await run(["init", "optimize-image", folder], in: NSTemporaryDirectory())
        #expect(started.exitCode == 0, "\(started.stderr)")
        let listing = "\(folder)/listing.txt"
        try "REPOSITORY TAG\nthis is not a listing at all\n".write(toFile: listing, atomically: true, encoding: .utf8)
        let commands: [[String]] = [
            ["check"], ["reset"], ["run", "optimize-image"], ["size", "busybox:latest"], ["lab", "list"],
            ["probe", "http://127.0.0.1:9/health", "--deadline", "0.2"],
            ["parse", "image-ls", listing], ["run", "no-such-chapter"], ["step", "no-such-step"],
            ["grade", "--chapter", "no-such-chapter", folder, "--lang", language.rawValue],
            [
                "batch", "--chapter", "ictsc-diet", folder, "--out", folder + "-reports", "--hosts", "ftp://nowhere",
                "--lang", language.rawValue,
            ],
        ]
        for command in commands {
            let output = await run(command)
            let stray = CourseLanguageTests.strayLines(output.stdout + output.stderr, language: language)
            #expect(stray.isEmpty, "\(command.joined(separator: " ")) in \(language): \(stray)")
        }
        // A damaged progress file is named, in the learner's language.
        try "{ not json".write(toFile: "\(folder)/.handson/state.json", atomically: true, encoding: .utf8)
        let damaged = await run(["step"])
        #expect(damaged.exitCode != 0)
        let stray = CourseLanguageTests.strayLines(damaged.stdout + damaged.stderr, language: language)
        #expect(stray.isEmpty && CourseLanguageTests.isIn(language, damaged.stderr), "\(damaged.stderr)")
    }
}
