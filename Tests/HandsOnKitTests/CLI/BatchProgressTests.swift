import Foundation
import HandsOnKitTestSupport
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

    @Test func intoAPipeEachEventIsAPlainLine() async throws {
        let (io, err) = Self.console(terminal: false)
        try Self.play(BatchProgress(io: io, total: 6, alreadyDone: 1, jobs: 2))
        let lines = err.withLock { $0 }.split(separator: "\n").map(String.init)
        #expect(
            lines == [
                "[1/6] started as-given on default",
                "[1/6] started scratch on default",
                "[2/6] as-given: 0/100 (891MB) in 3.1 s; failed: size",
                "[3/6] scratch: 100/100 (1.87MB) in 2.9 s — NOT SAVED: disk full",
                "slim: stopped, not saved",
            ])
    }

    @Test func onATerminalOneLiveLineIsRedrawnBelowTheFinishedAnswers() async throws {
        let (io, err) = Self.console(terminal: true)
        try Self.play(BatchProgress(io: io, total: 6, alreadyDone: 1, jobs: 2))
        let text = err.withLock { $0 }
        #expect(!text.contains("started"), "starts show on the live line only")
        #expect(text.contains("\r\u{1B}[K[1/6] 2 running · 0s elapsed · as-given, scratch"))
        #expect(text.contains("\r\u{1B}[K[2/6] as-given: 0/100 (891MB) in 3.1 s; failed: size\n"))
        #expect(
            text.contains("[3/6] 0 running · 0s elapsed · about 6s left"),
            "three answers left, two jobs, about 3 s each: \(text)")
        #expect(text.hasSuffix("\r\u{1B}[K"), "the live line is cleared at the end")
    }

    @Test func durationsReadAsMinutesAndSeconds() async {
        #expect(BatchProgress.duration(4.4) == "4s")
        #expect(BatchProgress.duration(65) == "1m05s")
        #expect(BatchProgress.duration(3600) == "60m00s")
    }
}
