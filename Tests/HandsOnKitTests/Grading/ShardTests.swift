import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnMessages
@testable import HandsOnReports
@testable import handson

/// Shards of a class graded apart and merged: the split, the merge, and a shard run again.
@Suite("Shards of a class and their merge")
struct ShardTests {
    @Test func aShardIsWrittenFromOneOrTakenFromTheJobsCompletionIndex() throws {
        #expect(try Shard.parse("2/4", environment: [:]) == Shard(index: 1, count: 4))
        #expect(try Shard.parse("4", environment: ["JOB_COMPLETION_INDEX": "3"]) == Shard(index: 3, count: 4))
        #expect("\(try Shard.parse("1/1", environment: [:]))" == "1/1")
        for (text, environment) in [
            ("0/4", [String: String]()), ("5/4", [:]), ("x/4", [:]), ("2/0", [:]), ("", [:]), ("1/2/3", [:]),
            ("4", [:]), ("4", ["JOB_COMPLETION_INDEX": "4"]), ("4", ["JOB_COMPLETION_INDEX": "-1"]),
        ] {
            #expect(throws: ShardError.self, "\(text) \(environment)") {
                try Shard.parse(text, environment: environment)
            }
        }
    }

    /// Every answer is in exactly one share, the shares are near even, and a new answer moves no other.
    @Test func theSharesSplitAClassAndANewAnswerMovesNoOther() {
        let names = (1...60).map { "team-\($0)" }
        let shards = (0..<3).map { Shard(index: $0, count: 3) }
        let shares = shards.map { shard in names.filter(shard.holds) }
        #expect(names.allSatisfy { name in shards.filter { $0.holds(name) }.count == 1 })
        #expect(shares.allSatisfy { (10...30).contains($0.count) }, "\(shares.map(\.count))")
        let grown = names + ["late-1", "late-2", "ほげ"]
        #expect(shards.map { shard in grown.filter(shard.holds).filter(names.contains) } == shares)
        // FNV-1a, pinned: a new HandsOn must split a class as the old one did, or a restarted shard would grade anew.
        #expect(Shard.hash("team-1") == 0xde90_5371_7d11_cae6 && Shard.hash("") == 0xcbf2_9ce4_8422_2325)
    }

    static let scores = ["a1": 5_000_000, "a2": 50_000_000, "a3": 6_000_000, "a4": 7_000_000, "a5": 60_000_000]

    /// One batch on `engine` into `reports`, of the shard given (nil: the whole class).
    static func batch(
        _ folder: String, into reports: String, shard: Shard?, engines: FakeEngines, engine address: String
    ) async throws -> ClassBatch.Outcome {
        let grader = try GradingCoreTests.grader(engines)
        let store = try BatchResultStore(directory: reports, chapter: grader.chapter.id)
        var batch = ClassBatch(
            chapter: grader.chapter, grader: grader, engines: [GradingCoreTests.engine(address, engines)],
            store: store, reports: ClassReports())
        batch.shard = shard
        return try await batch.run(.once(classFolder: folder))
    }

    /// The class in two shards, graded at once by two processes' worth of batches on two engines and merged, reads as
    /// one batch of the whole class: every answer's score in every report.
    @Test func twoShardsMergedReadAsOneBatchOfTheClass() async throws {
        let folder = try GradingCoreTests.classFolder(Self.scores.mapValues(Int64.init))
        let base = NSTemporaryDirectory() + "handson-shards-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, base] { try? FileManager.default.removeItem(atPath: path) } }
        let engines = FakeEngines()
        async let first = Self.batch(
            folder, into: "\(base)/one", shard: Shard(index: 0, count: 2), engines: engines, engine: "tcp://lab-a:2375")
        async let second = Self.batch(
            folder, into: "\(base)/two", shard: Shard(index: 1, count: 2), engines: engines, engine: "tcp://lab-b:2375")
        let shares = try await [first, second].map { $0.summary.grades.map(\.submission) }
        #expect(
            Set(shares[0]).isDisjoint(with: shares[1]) && (shares[0] + shares[1]).sorted() == Self.scores.keys.sorted())
        let whole = try await Self.batch(
            folder, into: "\(base)/whole", shard: nil, engines: engines, engine: "tcp://lab-c:2375")

        let chapter = try GradingCoreTests.grader(engines).chapter
        let merged = try ShardMerge.merge(
            ["\(base)/one", "\(base)/two"], into: "\(base)/merged", chapter: chapter, reports: ClassReports())
        #expect(merged.isWhole && merged.shards == [Shard(index: 0, count: 2), Shard(index: 1, count: 2)])
        #expect(merged.summary.grades.map(\.submission) == whole.summary.grades.map(\.submission))
        #expect(merged.summary.grades.map(\.score) == whole.summary.grades.map(\.score))
        for grade in whole.summary.grades {
            #expect(
                GradingCoreTests.everyReportShows("\(base)/merged", grade.submission, grade.score),
                "\(grade.submission)")
        }
        #expect(try GradingCoreTests.savedScores("\(base)/merged") == GradingCoreTests.savedScores("\(base)/whole"))
        let mergedFiles = Set(try FileManager.default.contentsOfDirectory(atPath: "\(base)/merged"))
        #expect(Set(ClassReports().files).isSubset(of: mergedFiles))

        // Merged again into the same folder: replaced, not doubled.
        _ = try ShardMerge.merge(
            ["\(base)/one", "\(base)/two"], into: "\(base)/merged", chapter: chapter, reports: ClassReports())
        let store = try BatchResultStore(directory: "\(base)/merged", chapter: chapter.id)
        #expect(Self.scores.keys.allSatisfy { store.history(of: $0).grades.count == 1 })
    }

    /// A followed shard grades its share and keeps `shard.json` naming every answer the class folder has held, so a
    /// merge of followed shards finds an answer no shard graded too.
    @Test func aFollowedShardGradesItsShareAndNamesTheClassItSaw() async throws {
        let folder = try GradingCoreTests.classFolder(Self.scores.mapValues(Int64.init))
        let reports = NSTemporaryDirectory() + "handson-shards-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, reports] { try? FileManager.default.removeItem(atPath: path) } }
        let engines = FakeEngines()
        let grader = try GradingCoreTests.grader(engines)
        let shard = Shard(index: 1, count: 2)
        var batch = ClassBatch(
            chapter: grader.chapter, grader: grader, engines: [GradingCoreTests.engine("tcp://lab:2375", engines)],
            store: try BatchResultStore(directory: reports, chapter: grader.chapter.id), reports: ClassReports())
        batch.shard = shard
        let share = Self.scores.keys.filter(shard.holds).sorted()
        let following = Task { try await batch.run(.follow(classFolder: folder, interval: .milliseconds(30))) }
        try await GradingCoreTests.waitUntil("the share graded") {
            (try? GradingCoreTests.savedScores(reports))?.keys.sorted() == share
        }
        try GradingCoreTests.write(answer: "\(folder)/a6", bytes: 5_000_000)
        let withNew = (share + (shard.holds("a6") ? ["a6"] : [])).sorted()
        try await GradingCoreTests.waitUntil("a6 seen, and graded if it is the shard's") {
            (try? ShardRecord.read(in: reports))??.classAnswers.contains("a6") == true
                && (try? GradingCoreTests.savedScores(reports))?.keys.sorted() == withNew
        }
        following.cancel()
        _ = try await following.value
        let record = try #require(try ShardRecord.read(in: reports))
        #expect(record.shard == shard && record.classAnswers == (Self.scores.keys + ["a6"]).sorted())
        #expect(record.assigned == record.classAnswers.filter(shard.holds))
        #expect(Set(try GradingCoreTests.savedScores(reports).keys) == Set(record.assigned))
    }

    /// A shard run again (after a kill) grades only what it has no saved grade of; a merge names an answer graded
    /// twice and those no shard graded, and says the merge is not whole.
    @Test func aShardRunAgainGradesNothingTwiceAndAMergeNamesWhatIsAmiss() async throws {
        let folder = try GradingCoreTests.classFolder(Self.scores.mapValues(Int64.init))
        let base = NSTemporaryDirectory() + "handson-shards-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, base] { try? FileManager.default.removeItem(atPath: path) } }
        let engines = FakeEngines()
        let shard = Shard(index: 0, count: 2)
        let first = try await Self.batch(
            folder, into: "\(base)/one", shard: shard, engines: engines, engine: "tcp://lab-a:2375")
        let share = first.summary.grades.map(\.submission)
        #expect(!share.isEmpty && engines.builds.count == share.count)
        // Killed before its last result was saved: that answer, and only it, is graded again.
        let lost = try #require(share.last)
        try FileManager.default.removeItem(atPath: "\(base)/one/results/\(lost).json")
        let again = try await Self.batch(
            folder, into: "\(base)/one", shard: shard, engines: engines, engine: "tcp://lab-a:2375")
        #expect(again.finished.map(\.submission) == [lost])
        #expect(engines.builds.count == share.count + 1)

        let chapter = try GradingCoreTests.grader(engines).chapter
        let half = try ShardMerge.merge(
            ["\(base)/one"], into: "\(base)/half", chapter: chapter, reports: ClassReports())
        #expect(!half.isWhole)
        #expect(half.notGradedByAnyShard == Self.scores.keys.filter { !shard.holds($0) }.sorted())
        #expect(half.summary.notGraded == half.notGradedByAnyShard, "the reports list them as not graded")

        _ = try await Self.batch(
            folder, into: "\(base)/whole", shard: nil, engines: engines, engine: "tcp://lab-b:2375")
        let doubled = try ShardMerge.merge(
            ["\(base)/one", "\(base)/whole"], into: "\(base)/doubled", chapter: chapter, reports: ClassReports())
        #expect(Set(doubled.gradedTwice.keys) == Set(share))
        #expect(doubled.gradedTwice.values.allSatisfy { $0 == ["\(base)/one", "\(base)/whole"] })
        #expect(throws: ShardMergeError.self) {
            try ShardMerge.merge(["\(base)/one"], into: "\(base)/one", chapter: chapter, reports: ClassReports())
        }
        #expect(throws: ShardMergeError.self) {
            try ShardMerge.merge(["\(base)/one"], into: folder, chapter: chapter, reports: ClassReports())
        }
    }

    /// The command line: `batch --shard` twice (K from the option, then from JOB_COMPLETION_INDEX), `report merge` of
    /// both (exit 0) and of one (exit 1, naming what no shard graded); a shard out of range is a usage error.
    @Test func theCommandLineShardsAClassAndMergesItsFolders() async throws {
        let folder = try GradingCoreTests.classFolder(Self.scores.mapValues(Int64.init))
        let base = NSTemporaryDirectory() + "handson-shards-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, base] { try? FileManager.default.removeItem(atPath: path) } }
        let runner = FakeDockerCLI()
        let environment = ["PATH": "/usr/bin:/bin", "HANDSON_HOME": GradingLanguageTests.course]
        func run(_ arguments: [String], _ extra: [String: String] = [:]) async -> CLIRun {
            await CLIRun.run(arguments, runner: runner, environment: environment.merging(extra) { $1 })
        }
        let batch = ["batch", "--chapter", "build-limits", folder, "--jobs", "1"]
        let first = await run(batch + ["--out", "\(base)/one", "--shard", "1/2"])
        #expect(first.exitCode == 0, "\(first.stderr)")
        #expect(
            first.stderr.contains(english(.cli.batch.shardShare, ["shard": "1/2"], before: "share")), "\(first.stderr)")
        let second = await run(batch + ["--out", "\(base)/two", "--shard", "2"], ["JOB_COMPLETION_INDEX": "1"])
        #expect(second.exitCode == 0, "\(second.stderr)")
        #expect(try ShardRecord.read(in: "\(base)/two")?.shard == Shard(index: 1, count: 2))

        let merged = await run(["report", "merge", "\(base)/one", "\(base)/two", "--out", "\(base)/merged"])
        #expect(merged.exitCode == 0, "\(merged.stderr)")
        #expect(try GradingCoreTests.savedScores("\(base)/merged").count == Self.scores.count)
        let half = await run(["report", "merge", "\(base)/one", "--out", "\(base)/half"])
        #expect(half.exitCode == 1)
        let missing = Self.scores.keys.filter { !Shard(index: 0, count: 2).holds($0) }.sorted()
        #expect(half.stderr.contains(MessageCatalog.list(missing)), "\(half.stderr)")

        let wrong = await run(batch + ["--out", "\(base)/x", "--shard", "3/2"])
        #expect(wrong.exitCode == ExitCode.usage, "\(wrong.stderr)")
        let noIndex = await run(batch + ["--out", "\(base)/x", "--shard", "2"])
        #expect(
            noIndex.exitCode == ExitCode.usage
                && noIndex.stderr.contains(english(.shard.noCompletionIndex, ["count": "2", "index": ""])),
            "\(noIndex.stderr)")
    }

    /// The commands the repository's GitHub Actions workflow and Kubernetes Jobs run, as they write them (the
    /// matrix's and the index's values put in), grade the class in shards and merge it whole.
    @Test(arguments: ["workflow", "kubernetes"])
    func theSchedulersFilesRunCommandsThatGradeAndMerge(_ scheduler: String) async throws {
        let folder = try GradingCoreTests.classFolder(Self.scores.mapValues(Int64.init))
        let base = NSTemporaryDirectory() + "handson-shards-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, base] { try? FileManager.default.removeItem(atPath: path) } }
        let commands = try scheduler == "workflow" ? Self.workflowCommands() : Self.kubernetesCommands()
        #expect(commands.count == 5, "four shards and a merge: \(commands)")
        let runner = FakeDockerCLI()
        let environment = ["PATH": "/usr/bin:/bin", "HANDSON_HOME": GradingLanguageTests.course]
        for (arguments, index) in commands {
            let placed = arguments.map {
                $0.replacingOccurrences(of: "@CLASS@", with: folder).replacingOccurrences(of: "@REPORTS@", with: base)
                    .replacingOccurrences(of: "ictsc-diet", with: "build-limits")
            }
            let extra = index.map { ["JOB_COMPLETION_INDEX": "\($0)"] } ?? [:]
            let run = await CLIRun.run(
                placed + (placed.first == "batch" ? ["--jobs", "1"] : []), runner: runner,
                environment: environment.merging(extra) { $1 })
            #expect(run.exitCode == 0, "\(placed): \(run.stderr)")
        }
        #expect(try GradingCoreTests.savedScores("\(base)/merged").count == Self.scores.count)
    }

    /// The workflow's two `run` blocks that call handson, once per matrix shard for the first.
    static func workflowCommands() throws -> [(arguments: [String], index: Int?)] {
        let text = try String(
            contentsOfFile: Repository.root + "/.github/workflows/grade-in-shards.yml", encoding: .utf8)
        var blocks: [String] = []
        let lines = text.components(separatedBy: "\n")
        for (at, line) in lines.enumerated() where line.trimmingCharacters(in: .whitespaces) == "run: >-" {
            let indent = line.prefix { $0 == " " }.count
            let body = lines[(at + 1)...].prefix { $0.prefix { $0 == " " }.count > indent || $0.isEmpty }
            let joined = body.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
            if joined.contains("handson ") { blocks.append(joined) }
        }
        func words(_ block: String, shard: Int) -> [String] {
            let filled = block.replacingOccurrences(of: "${{ inputs.chapter }}", with: "ictsc-diet")
                .replacingOccurrences(of: "${{ inputs.class }}", with: "@CLASS@")
                .replacingOccurrences(of: "${{ inputs.shards }}", with: "4")
                .replacingOccurrences(of: "${{ matrix.shard }}", with: "\(shard)")
                .replacingOccurrences(of: "reports/", with: "@REPORTS@/").replacingOccurrences(of: "\"", with: "")
            return Array(filled.split(separator: " ").map(String.init).drop { !$0.hasSuffix("/handson") }.dropFirst())
        }
        guard blocks.count == 2 else { return [] }
        return (1...4).map { (words(blocks[0], shard: $0), nil) } + [(words(blocks[1], shard: 0), nil)]
    }

    /// The Jobs' `args` lists: the Indexed Job's once per index, then the merge Job's.
    static func kubernetesCommands() throws -> [(arguments: [String], index: Int?)] {
        let text = try String(
            contentsOfFile: Repository.root + "/deploy/kubernetes/grade-in-shards.yaml", encoding: .utf8)
        var lists: [[String]] = []
        var current: [String]?
        for line in text.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == "args:" {
                current = []
            } else if current != nil, trimmed.hasPrefix("- "), !trimmed.contains(":") || trimmed.contains("/") {
                current?.append(String(trimmed.dropFirst(2)).replacingOccurrences(of: "\"", with: ""))
            } else if let list = current {
                lists.append(list)
                current = nil
            }
        }
        func placed(_ list: [String], index: Int) -> [String] {
            list.map {
                $0.replacingOccurrences(of: "$(JOB_COMPLETION_INDEX)", with: "\(index)")
                    .replacingOccurrences(of: "/reports", with: "@REPORTS@").replacingOccurrences(
                        of: "/class", with: "@CLASS@")
            }
        }
        guard lists.count == 2 else { return [] }
        return (0..<4).map { (placed(lists[0], index: $0), $0) } + [(placed(lists[1], index: 0), nil)]
    }
}
