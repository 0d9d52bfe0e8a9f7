import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnProcesses
@testable import handson

@Suite("The command line: help, version, usage errors, colour")
struct CLITests {
    @Test func helpGoesToStdoutWithExitZeroAndListsEveryCommand() async {
        let run = await CLIRun.run(["--help"])
        #expect(run.exitCode == 0)
        #expect(run.stderr.isEmpty)
        for command in HandsOnCLI.commands { #expect(run.stdout.contains(command.spec.name)) }
    }

    @Test(arguments: HandsOnCLI.commands.map(\.spec.path))
    func everyCommandHasItsOwnHelp(path: [String]) async {
        let run = await CLIRun.run(path + ["--help"])
        #expect(run.exitCode == 0)
        #expect(
            run.stdout.contains(english(.help.frame.usage, before: "usage") + "handson \(path.joined(separator: " "))"))
        #expect(run.stdout.contains("-h, --help"))
    }

    @Test func versionPrintsTheVersion() async {
        let run = await CLIRun.run(["--version"])
        #expect(run.exitCode == 0)
        #expect(run.stdout == "handson \(HandsOnCLI.version)\n")
    }

    @Test(arguments: [
        (["frobnicate"], english(.cli.unknownCommand, ["command": "frobnicate"])),
        (["--frobnicate"], english(.cli.unknownOption, ["option": "--frobnicate"])),
        (["doctor", "--frobnicate"], english(.cli.args.unknownOption, ["name": "--frobnicate"])),
        (["doctor", "extra"], english(.cli.args.unexpectedArgument, ["argument": "extra"])),
        (["doctor", "--engine"], english(.cli.args.needsValue, ["name": "--engine", "value": "docker|podman"])),
        (["doctor", "--json=yes"], english(.cli.args.takesNoValue, ["name": "--json"])),
        (
            ["lab"],
            english(
                .cli.needsSubcommand,
                ["command": "lab", "subcommands": MessageCatalog.list(["prepare", "list"], in: .en)])
        ),
        (["parse", "image-ls", "a", "b"], english(.cli.args.unexpectedArgument, ["argument": "b"])),
        (["demo", "--port", "many"], english(.cli.args.positiveInteger, ["option": "--port", "text": "many"])),
        (["batch", "class"], english(.cli.batch.chapterRequiredChapterIctsc)),
        (["batch", "--chapter", "ictsc-diet", "class"], english(.cli.batch.outRequiredFolderReports)),
        (
            ["batch", "--chapter", "ictsc-diet", "class", "--out", "r", "--jobs", "0"],
            english(.cli.args.positiveInteger, ["option": "--jobs", "text": "0"])
        ),
    ])
    func usageErrorsSayWhatIsWrongOnStderrWithExitTwo(arguments: [String], message: String) async {
        let runner = FakeProcessRunner()
        let run = await CLIRun.run(arguments, runner: runner)
        #expect(run.exitCode == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix(english(.cli.errorPrefix) + message), "\(run.stderr)")
        #expect(run.stderr.hasSuffix(english(.cli.handsOnCLI.seeHandsonHelp) + "\n"))
        #expect(runner.commands.isEmpty, "a usage error runs nothing")
    }

    @Test func parseImageListPrintsRowsAsJSONWithNullsForNone() async throws {
        let file = ListingFixtures.directory + "/docker-format-repotag.txt"
        let run = await CLIRun.run(["parse", "image-ls", file])
        #expect(run.exitCode == 0)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == (try ListingFixtures.exactSizes("docker")).count)
        let edge = try #require(rows.first { $0["tag"] as? String == "b10049999" })
        #expect(edge["size"] as? String == "10MB")
        #expect(edge["reference"] as? String == "handson-fixture/edge:b10049999")
        #expect(edge["sizeBytesMin"] as? Int == 9_950_000 && edge["sizeBytesMax"] as? Int == 10_050_000)
        #expect(edge["imageID"] is NSNull, "no ID column in this format: null, not missing")
    }

    @Test func parseImageListOnTextThatIsNoListingExitsOneNamingTheLine() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-not-a-listing-\(UUID().uuidString)")
        try "just some notes\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let run = await CLIRun.run(["parse", "image-ls", file.path])
        #expect(run.exitCode == 1)
        #expect(run.stderr.contains(english(.listingParseError.line, ["line": "1", "text": "just some notes"])))
        let missing = await CLIRun.run(["parse", "image-ls", "/nonexistent/listing.txt"])
        #expect(missing.exitCode == 1)
        #expect(missing.stderr.contains(english(.cli.parses.cannotReadSuchFile, ["value": "/nonexistent/listing.txt"])))
    }

    @Test func parseCurlPrintsEveryFieldWithNulls() async throws {
        let run = await CLIRun.run([
            "parse", "curl", ListingFixtures.directory + "/../curl/connection-refused-verbose.txt",
        ])
        #expect(run.exitCode == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["curlExitCode"] as? Int == 7)
        #expect(object["error"] as? String == "connection refused")
        #expect(object["healthy"] as? Bool == false)
        #expect(object["httpStatus"] is NSNull && object["body"] is NSNull && object["headers"] is NSNull)
    }

    @Test func anUnknownEngineNameIsAUsageError() async {
        let run = await CLIRun.run(["doctor", "--engine", "lxc"])
        #expect(run.exitCode == 2)
        #expect(run.stderr.contains(english(.cli.engineOption.engineTakesDockerPodman, ["name": "lxc"])))
    }

    @Test func colourOnlyOnATerminalAndNeverWithNoColor() async {
        let plain = await CLIRun.run(["doctor"], terminal: false)
        #expect(!plain.stdout.contains("\u{1B}["))
        let coloured = await CLIRun.run(["doctor"], terminal: true)
        #expect(coloured.stdout.contains("\u{1B}["))
        let noColor = await CLIRun.run(
            ["doctor"], environment: ["PATH": "/usr/bin:/bin", "NO_COLOR": "1"], terminal: true)
        #expect(!noColor.stdout.contains("\u{1B}["))
    }

    @Test func optionValuesAreReadInBothSpellings() async throws {
        let spec = CommandSpec(["x"], summary: "", positionals: 0...2, options: [.engine, .json])
        let spaced = try ParsedArguments.parse(["--engine", "podman", "a", "--json", "--", "-b"], for: spec)
        #expect(spaced.value(.engine) == "podman")
        #expect(spaced.has(.json))
        #expect(spaced.positionals == ["a", "-b"])
        let joined = try ParsedArguments.parse(["--engine=docker"], for: spec)
        #expect(joined.value(.engine) == "docker")
    }
}

@Suite("Help and an installed binary")
struct HelpAndInstallTests {
    @Test func helpForACommandIsItsOwnHelp() async {
        for command in [["batch"], ["lab", "prepare"], ["grade"]] {
            let viaHelp = await CLIRun.run(["help"] + command)
            let viaOption = await CLIRun.run(command + ["--help"])
            #expect(
                viaHelp.exitCode == 0 && viaHelp.stdout == viaOption.stdout && !viaHelp.stdout.isEmpty, "\(command)")
        }
        let unknown = await CLIRun.run(["help", "nope"])
        #expect(unknown.exitCode == ExitCode.usage)
        #expect(unknown.stderr.contains(english(.cli.noSuchCommand, ["command": "nope"])))
    }

    @Test func anInstalledBinaryFindsTheCourseUnderShare() async throws {
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-prefix-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        for folder in ["bin", "share/handson/Chapters", "share/handson/apps"] {
            try FileManager.default.createDirectory(atPath: "\(prefix)/\(folder)", withIntermediateDirectories: true)
        }
        let layout = ProjectLayout.locate(environment: [:], currentDirectory: "/", executable: "\(prefix)/bin/handson")
        #expect(layout?.root == "\(prefix)/share/handson")
        #expect(
            ProjectLayout.locate(environment: [:], currentDirectory: "/", executable: "/nowhere/bin/handson") == nil)
        #expect(
            ProjectLayout.locate(
                environment: ["HANDSON_HOME": "/elsewhere"], currentDirectory: "/",
                executable: "\(prefix)/bin/handson")?.root == "/elsewhere", "HANDSON_HOME still wins")
    }
}

@Suite("Shell completion")
struct CompletionTests {
    /// Sources the bash script in a real bash and asks it to complete each command line.
    static func bashCompletes(_ lines: [[String]], script: String) async throws -> [String] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-completion-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try script.write(toFile: "\(folder)/handson.bash", atomically: true, encoding: .utf8)
        var driver = "source \"\(folder)/handson.bash\"\n"
        for words in lines {
            let quoted = words.map { "'\($0)'" }.joined(separator: " ")
            driver +=
                "COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); COMPREPLY=(); _handson; echo \"${COMPREPLY[*]}\"\n"
        }
        let result = try await SystemProcessRunner().run(
            ProcessRequest("bash", ["-c", driver], workingDirectory: folder))
        #expect(result.succeeded, "\(result.stderr)")
        return result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    @Test func bashCompletesCommandsOptionsAndTheirValues() async throws {
        let run = await CLIRun.run(
            ["completion", "bash"],
            environment: ["PATH": "/usr/bin:/bin", "HANDSON_HOME": CourseChaptersTests.chaptersDirectory + "/.."])
        #expect(run.exitCode == 0)
        let answers = try await Self.bashCompletes(
            [
                ["handson", "ba"], ["handson", "batch", "--cha"], ["handson", "batch", "--chapter", ""],
                ["handson", "lab", ""],
                ["handson", "grade", "--engine", ""], ["handson", "run", "--step", "sm"], ["handson", "start", "opt"],
            ], script: run.stdout)
        #expect(
            answers == [
                "batch", "--chapter",
                "build-time containerize-webapp distroless-vs-alpine ictsc-diet lightweight-base-images optimize-image"
                    + " secure-image",
                "list prepare", "docker podman", "smallest", "optimize-image",
            ], "\(answers)")
    }

    @Test func everyCommandAndOptionIsInTheFishScript() async {
        let run = await CLIRun.run(
            ["completion", "fish"],
            environment: ["PATH": "/usr/bin:/bin", "HANDSON_HOME": CourseChaptersTests.chaptersDirectory + "/.."])
        #expect(run.exitCode == 0)
        for command in HandsOnCLI.commands {
            #expect(run.stdout.contains(" -a \(command.spec.path.last!) "), "\(command.spec.name)")
            for option in command.spec.options {
                #expect(run.stdout.contains(" -l \(option.name.dropFirst(2))"), "\(command.spec.name) \(option.name)")
            }
        }
        let zsh = await CLIRun.run(["completion", "zsh"])
        #expect(zsh.stdout.hasPrefix("autoload -U +X bashcompinit && bashcompinit\n"))
        let bad = await CLIRun.run(["completion", "tcsh"])
        #expect(bad.exitCode == ExitCode.usage)
    }
}

@Suite("Columns in every language")
struct TerminalWidthTests {
    @Test func wideCharactersTakeTwoColumnsAndPaddingLinesThemUp() {
        #expect("engine".terminalWidth == 6)
        #expect("エンジン".terminalWidth == 8)
        #expect("빌드 제한".terminalWidth == 9)
        #expect("ポート 9091".padded(toColumns: 14).terminalWidth == 14)
        #expect("engine".padded(toColumns: 3) == "engine", "a longer text is left as it is")
    }
}
