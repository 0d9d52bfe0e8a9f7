import Foundation
import Testing

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
                    && error.description.contains("another `handson batch` is writing to"))
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
    @Test func aProcessNamingTheBatchIsStoppedAndOthersAreNot() async throws {
        let marker = "handson-grade/ictsc-diet:\(UUID().uuidString.prefix(12).lowercased())-"
        let runner = SystemProcessRunner()
        let running = [("orphan", "\(marker)abc", 30.0), ("bystander", "handson-grade/ictsc-diet:other-abc", 3.0)].map {
            name, argument, timeout in
            (
                name,
                Task {
                    try? await runner.run(
                        ProcessRequest("/bin/sh", ["-c", "sleep 30", argument], timeout: timeout, killGrace: 1))
                }
            )
        }
        var found: [pid_t] = []
        for _ in 0..<50 where found.isEmpty {
            try await Task.sleep(for: .seconds(0.05))
            found = OrphanedCommands.processes(mentioning: [marker])
        }
        // One shell; for an instant after it forks `sleep`, the child still shows the shell's arguments too.
        #expect((1...2).contains(found.count), "\(found)")
        await OrphanedCommands.stop(mentioning: [marker])
        let orphan = try #require(await running[0].1.value)
        let bystander = try #require(await running[1].1.value)
        #expect(
            orphan.termination == .signaled(SIGTERM) && !orphan.timedOut, "stopped by the batch, not by its timeout")
        #expect(bystander.timedOut, "the other batch's command ran on until its own timeout")
    }
}
