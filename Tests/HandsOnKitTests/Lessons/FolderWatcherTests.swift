import Foundation
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

/// Runs a blocking wait on a thread of its own, off the shared pool the other tests run on.
func onOwnThread<Value: Sendable>(_ body: @escaping @Sendable () -> Value) async -> Value {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}

/// A watcher handed to the thread that waits on it. @unchecked: the test awaits each wait before it touches the
/// watcher again, so only one thread uses it at a time.
final class WatcherOnLoan: @unchecked Sendable {
    let watcher: FolderWatcher
    init(_ watcher: FolderWatcher) { self.watcher = watcher }
    func wait(_ timeout: Double, stop: @escaping @Sendable () -> Bool = { false }) async -> Bool {
        await onOwnThread { self.watcher.waitForChange(timeout: timeout, shouldStop: stop) }
    }

    /// Foundation may close the file a test fixture wrote after the watch began (the close of an atomic write comes
    /// after its rename, later still on a busy machine): those events are the fixture's, swallowed here until the
    /// folder has been quiet for half a second, before the test watches.
    static func settled(_ watcher: FolderWatcher) async -> WatcherOnLoan {
        let loan = WatcherOnLoan(watcher)
        for _ in 0..<20 {
            guard await loan.wait(0.5) else { break }
        }
        return loan
    }
}

@Suite("Watching a folder for edits")
struct FolderWatcherTests {
    func makeFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("handson-watch-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: "\(path)/web", withIntermediateDirectories: true)
        try "a".write(toFile: "\(path)/web/index.html", atomically: true, encoding: .utf8)
        return path
    }

    @Test(arguments: [false, true])
    func anEditIsSeenAndQuietTimeIsNot(polling: Bool) async throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let watcher = await WatcherOnLoan.settled(FolderWatcher(directory: folder, forcePolling: polling))
        #expect(watcher.watcher.mechanism == (polling ? .polling : .inotify))
        #expect(
            !(await watcher.wait(0.6)), "nothing changed, yet \(watcher.watcher.lastChangedPath ?? "an event") was seen"
        )
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) {
            try? "changed".write(toFile: "\(folder)/web/index.html", atomically: false, encoding: .utf8)
        }
        #expect(await watcher.wait(5))
        // A folder made after the watch began is watched too.
        try FileManager.default.createDirectory(atPath: "\(folder)/server", withIntermediateDirectories: true)
        _ = await watcher.wait(2)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) {
            try? "package main".write(toFile: "\(folder)/server/main.go", atomically: false, encoding: .utf8)
        }
        #expect(await watcher.wait(5))
    }

    @Test func handsOnsOwnStateIsNotAnEdit() async throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: "\(folder)/.handson", withIntermediateDirectories: true)
        for polling in [false, true] {
            let watcher = await WatcherOnLoan.settled(FolderWatcher(directory: folder, forcePolling: polling))
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) {
                try? "{}".write(toFile: "\(folder)/.handson/state.json", atomically: true, encoding: .utf8)
            }
            #expect(
                !(await watcher.wait(1.2)),
                "polling: \(polling), seen: \(watcher.watcher.lastChangedPath ?? "nothing named")")
        }
    }

    @Test func stopsWhenAskedTo() async throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let watcher = await WatcherOnLoan.settled(FolderWatcher(directory: folder))
        let started = Date()
        #expect(
            !(await watcher.wait(30) { Date().timeIntervalSince(started) > 0.5 }),
            "seen: \(watcher.watcher.lastChangedPath ?? "nothing named")")
        // Far less than the 30 s it would wait if the stop were not heard, with room for a loaded machine.
        #expect(Date().timeIntervalSince(started) < 15)
    }
}
