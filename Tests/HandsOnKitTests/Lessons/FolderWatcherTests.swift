import Foundation
import Testing
@testable import HandsOnKit

@Suite("Watching a folder for edits")
struct FolderWatcherTests {
    func makeFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("handson-watch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(path)/web", withIntermediateDirectories: true)
        try "a".write(toFile: "\(path)/web/index.html", atomically: true, encoding: .utf8)
        return path
    }

    @Test(arguments: [false, true])
    func anEditIsSeenAndQuietTimeIsNot(polling: Bool) async throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let watcher = FolderWatcher(directory: folder, forcePolling: polling)
        #expect(watcher.mechanism == (polling ? .polling : .inotify))
        #expect(!watcher.waitForChange(timeout: 0.6) { false }, "nothing changed")
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) {
            try? "changed".write(toFile: "\(folder)/web/index.html", atomically: false, encoding: .utf8)
        }
        #expect(watcher.waitForChange(timeout: 5) { false })
        // A folder made after the watch began is watched too.
        try FileManager.default.createDirectory(atPath: "\(folder)/server", withIntermediateDirectories: true)
        _ = watcher.waitForChange(timeout: 2) { false }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) {
            try? "package main".write(toFile: "\(folder)/server/main.go", atomically: false, encoding: .utf8)
        }
        #expect(watcher.waitForChange(timeout: 5) { false })
    }

    @Test func handsOnsOwnStateIsNotAnEdit() async throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: "\(folder)/.handson", withIntermediateDirectories: true)
        for polling in [false, true] {
            let watcher = FolderWatcher(directory: folder, forcePolling: polling)
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) {
                try? "{}".write(toFile: "\(folder)/.handson/state.json", atomically: true, encoding: .utf8)
            }
            #expect(!watcher.waitForChange(timeout: 1.2) { false }, "polling: \(polling)")
        }
    }

    @Test func stopsWhenAskedTo() async throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let started = Date()
        #expect(!FolderWatcher(directory: folder).waitForChange(timeout: 30) { Date().timeIntervalSince(started) > 0.5 })
        #expect(Date().timeIntervalSince(started) < 3)
    }
}
