import Foundation
import HandsOnKitTestSupport
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import handson

@Suite("Batch progress on a terminal and into a pipe")
struct BatchProgressTests {
    static func console(terminal: Bool) -> (ConsoleIO, LockedBox<String>) {
        let err = LockedBox("")
        let io = ConsoleIO(
            outputIsTerminal: terminal, errorIsTerminal: terminal, environment: ["NO_COLOR": "1"],
            writeOutput: { _ in }, writeError: { text in err.withLock { $0 += text } })
        return (io, err)
    }

    static func play(_ progress: BatchProgress) throws {
        let grades = BatchFixtures.grades
        let first = try #require(grades.first { $0.submission == "as-given" })
        let second = try #require(grades.first { $0.submission == "scratch" })
        progress.begin()
        progress.handle(.started(Submission(name: "as-given", path: "/c/as-given"), engine: "default"))
        progress.handle(.started(Submission(name: "scratch", path: "/c/scratch"), engine: "default"))
        progress.handle(.finished(first, saveError: nil))
        progress.handle(.finished(second, saveError: "disk full"))
        progress.handle(.cancelled(Submission(name: "slim", path: "/c/slim")))
        progress.end()
    }

    /// The lines `play` makes: each answer started, the two finished (the second not saved), the third stopped.
    static func started(_ name: String) -> String {
        english(.cli.batchProgress.started, ["done": "1", "total": "6", "name": name, "engine": "default"])
    }

    static let asGivenFinished =
        english(
            .cli.batchProgress.finishedSized,
            [
                "done": "2", "total": "6", "name": "as-given", "score": "0", "max": "100", "size": "891MB",
                "seconds": "3.1",
            ]) + english(.cli.batch.failedChecks, ["checks": "size"])

    static let scratchFinished =
        english(
            .cli.batchProgress.finishedSized,
            [
                "done": "3", "total": "6", "name": "scratch", "score": "100", "max": "100", "size": "1.87MB",
                "seconds": "2.9",
            ]) + english(.cli.batch.notSaved, ["error": "disk full"])

    @Test func intoAPipeEachEventIsAPlainLine() async throws {
        let (io, err) = Self.console(terminal: false)
        try Self.play(BatchProgress(io: io, total: 6, alreadyDone: 1, jobs: 2))
        let lines = err.withLock { $0 }.split(separator: "\n").map(String.init)
        #expect(
            lines == [
                Self.started("as-given"), Self.started("scratch"), Self.asGivenFinished, Self.scratchFinished,
                english(.cli.batchProgress.stopped, ["name": "slim"]),
            ])
    }

    @Test func onATerminalOneLiveLineIsRedrawnBelowTheFinishedAnswers() async throws {
        let (io, err) = Self.console(terminal: true)
        try Self.play(BatchProgress(io: io, total: 6, alreadyDone: 1, jobs: 2))
        let text = err.withLock { $0 }
        #expect(
            !text.contains(english(.cli.batchProgress.started, ["done": "1", "total": "6"], before: "name")),
            "starts show on the live line only")
        let running = english(.cli.batchProgress.running, ["count": "2", "elapsed": "0s"])
        #expect(text.contains("\r\u{1B}[K[1/6] \(running) · as-given, scratch"), "\(text)")
        #expect(text.contains("\r\u{1B}[K\(Self.asGivenFinished)\n"))
        let left =
            english(.cli.batchProgress.running, ["count": "0", "elapsed": "0s"])
            + english(.cli.batchProgress.left, ["left": "6s"])
        #expect(text.contains("[3/6] " + left), "three answers left, two jobs, about 3 s each: \(text)")
        #expect(text.hasSuffix("\r\u{1B}[K"), "the live line is cleared at the end")
    }

    @Test func durationsReadAsMinutesAndSeconds() async {
        #expect(BatchProgress.duration(4.4) == "4s")
        #expect(BatchProgress.duration(65) == "1m05s")
        #expect(BatchProgress.duration(3600) == "60m00s")
    }
}
