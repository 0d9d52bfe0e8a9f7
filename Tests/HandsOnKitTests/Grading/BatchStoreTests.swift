import Foundation
import HandsOnKitTestSupport
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnProcesses

@Suite("Batch folders and saved results")
struct BatchStoreTests {
    static func temporaryFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "handson-store-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func submissionsAreTheVisibleSubFoldersButNotTheReportFolder() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for name in ["bob", "alice", ".git", "report"] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(name)", withIntermediateDirectories: true)
        }
        try "x".write(toFile: "\(folder)/grades.xlsx", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: "\(folder)/link", withDestinationPath: "/tmp")
        let listing = try SubmissionFolders.list(in: folder, excluding: "\(folder)/report/")
        #expect(listing.submissions.map(\.name) == ["alice", "bob"])
        #expect(listing.skipped == ["grades.xlsx", "link"])
        #expect(throws: BatchError.self) { try SubmissionFolders.list(in: "\(folder)/grades.xlsx") }
    }

    @Test func aSavedGradeIsReadBackAndABrokenOneIsGradedAgain() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let grades = BatchFixtures.grades
        let submissions = grades.map { Submission(name: $0.submission, path: "/nowhere/\($0.submission)") }
        do {
            let store = try BatchResultStore(directory: folder, chapter: "ictsc-diet")
            for grade in grades.prefix(3) { try store.save(grade) }
        }
        try "{\"half\": ".write(
            toFile: "\(folder)/results/\(grades[1].submission).json", atomically: true, encoding: .utf8)
        let store = try BatchResultStore(directory: folder, chapter: "ictsc-diet")
        let loaded = store.load(submissions)
        #expect(loaded.grades.keys.sorted() == [grades[0].submission, grades[2].submission].sorted())
        #expect(loaded.grades[grades[0].submission]?.checks == grades[0].checks)
        #expect(loaded.unreadable == ["\(folder)/results/\(grades[1].submission).json"])
        try store.removeAll()
        #expect(store.load(submissions).grades.isEmpty)
    }

    @Test func aFolderOfAnotherChapterOrInUseIsRefused() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            let first = try BatchResultStore(directory: folder, chapter: "ictsc-diet")
            let error = try #require(throws: BatchError.self) {
                try BatchResultStore(directory: folder, chapter: "ictsc-diet")
            }
            #expect(
                error == .reportFolderBusy(folder)
                    && error.message == Message(.error.batch.reportFolderBusy, ["folder": folder]))
            withExtendedLifetime(first) {}
        }
        #expect(throws: Never.self) { try BatchResultStore(directory: folder, chapter: "ictsc-diet") }
    }

    @Test func anotherChaptersResultsAreNotMixedIn() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let batchID: String
        do { batchID = try BatchResultStore(directory: folder, chapter: "ictsc-diet").manifest.batchID }
        do {
            let error = try #require(throws: BatchError.self) {
                try BatchResultStore(directory: folder, chapter: "optimize-image")
            }
            #expect(error == .otherChapter(folder: folder, holds: "ictsc-diet", wanted: "optimize-image"))
        }
        #expect(
            try BatchResultStore(directory: folder, chapter: "ictsc-diet").manifest.batchID == batchID,
            "the batch keeps its id")
    }

    @Test func resultFileNamesCannotHideOrLookLikeOptions() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try BatchResultStore(directory: folder, chapter: "ictsc-diet")
        #expect(store.file(for: "alice") == "\(folder)/results/alice.json")
        #expect(store.file(for: "-rf") == "\(folder)/results/_-rf.json")
        #expect(store.file(for: "..x") == "\(folder)/results/_..x.json")
    }
}

@Suite("What a killed batch left running")
struct OrphanedCommandsTests {
    /// A `/proc` laid out in a folder: each process's NUL-separated command line.
    static func processTree(_ commandLines: [pid_t: [String]]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("handson-proc-\(UUID().uuidString)")
            .path
        for (pid, arguments) in commandLines {
            try FileManager.default.createDirectory(atPath: "\(root)/\(pid)", withIntermediateDirectories: true)
            let line = Data(arguments.joined(separator: "\0").utf8 + [0])
            try line.write(to: URL(fileURLWithPath: "\(root)/\(pid)/cmdline"))
        }
        try FileManager.default.createDirectory(atPath: "\(root)/self", withIntermediateDirectories: true)
        return root
    }

    @Test func aProcessNamingTheBatchIsStoppedAndOthersAreNot() async throws {
        let marker = "handson-grade/ictsc-diet:1a2b3c-"
        let root = try Self.processTree([
            101: ["docker", "build", "-t", "\(marker)abc", "."],
            102: ["docker", "build", "-t", "handson-grade/ictsc-diet:other-abc", "."],
            103: ["handson", "batch", "--label", marker],
            104: [],
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        // This process (103 here) is never its own orphan; an empty command line (a zombie) names nothing.
        #expect(OrphanedCommands.processes(mentioning: [marker], processRoot: root, own: 103) == [101])
        #expect(OrphanedCommands.processes(mentioning: [""], processRoot: root, own: 103).isEmpty)

        let sent = LockedBox<[String]>([])
        await OrphanedCommands.stop(mentioning: ["\(marker)abc"], processRoot: root) { pid, signal in
            // The process is gone once it has had SIGTERM.
            sent.withLock { sent in
                sent.append("\(pid):\(signal)")
                return signal == 0 && sent.contains("\(pid):\(SIGTERM)") ? -1 : 0
            }
        }
        #expect(sent.withLock { $0 } == ["101:\(SIGTERM)", "101:0"])
    }
}
