import Foundation
import HandsOnEngine
import HandsOnKit
import HandsOnMessages
import Synchronization

/// A batch's progress on stderr: on a terminal, finished answers scroll above one live line (done/total, running,
/// elapsed, estimate) redrawn every second by a ticking task; into a pipe or file, one plain line per started and
/// finished answer. All its state, the ticker included, is behind one lock.
final class BatchProgress: Sendable {
    private struct State {
        var done: Int
        var running: [String] = []
        var finishedThisRun: [Double] = []
        var ticker: Task<Void, Never>?
        var liveLineShown = false
    }

    private let io: ConsoleIO
    private let total: Int
    private let jobs: Int
    private let started = ContinuousClock.now
    private let state: Mutex<State>

    init(io: ConsoleIO, total: Int, alreadyDone: Int, jobs: Int) {
        self.io = io
        self.total = total
        self.jobs = jobs
        state = Mutex(State(done: alreadyDone))
    }

    func begin() {
        guard io.errorIsTerminal else { return }
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                guard let self, !Task.isCancelled else { return }
                self.state.withLock { self.drawLiveLine(&$0) }
            }
        }
        state.withLock {
            $0.ticker = ticker
            drawLiveLine(&$0)
        }
    }

    func handle(_ event: BatchEvent) {
        state.withLock { state in
            switch event {
            case .started(let submission, let engine):
                state.running.append(submission.name)
                if !io.errorIsTerminal {
                    io.err(
                        say(
                            .cli.batchProgress.started,
                            [
                                "done": "\(state.done)", "total": "\(total)", "name": "\(submission.name)",
                                "engine": "\(engine)",
                            ]))
                }
            case .finished(let report, let saveError):
                state.running.removeAll { $0 == report.submission }
                state.done += 1
                state.finishedThisRun.append(report.durationSeconds)
                let failed = report.checks.filter { !$0.passed }.map(\.id.rawValue)
                let values = [
                    "done": "\(state.done)", "total": "\(total)", "name": report.submission, "score": "\(report.score)",
                    "max": "\(report.maxScore)", "size": report.image?.size ?? "",
                    "seconds": String(format: "%.1f", report.durationSeconds),
                ]
                var line =
                    say(report.image == nil ? .cli.batchProgress.finished : .cli.batchProgress.finishedSized, values)
                    + (failed.isEmpty ? "" : say(.cli.batch.failedChecks, ["checks": MessageCatalog.list(failed)]))
                if let saveError { line += say(.cli.batch.notSaved, ["error": saveError]) }
                printAboveLiveLine(line)
            case .cancelled(let submission):
                state.running.removeAll { $0 == submission.name }
                printAboveLiveLine(say(.cli.batchProgress.stopped, ["name": submission.name]))
            case .engineLost(let engine, let returned):
                state.running.removeAll { $0 == returned.name }
                printAboveLiveLine(
                    say(.cli.batchProgress.engineLost, ["engine": engine, "name": returned.name]))
            case .notGraded(let submission, let reason):
                state.running.removeAll { $0 == submission.name }
                printAboveLiveLine(
                    say(.cli.batchProgress.notGraded, ["name": submission.name, "reason": reason.text()]))
            case .waitingForSpace(let shortfall):
                printAboveLiveLine(say(.cli.batchProgress.waitingForSpace, ["shortfall": shortfall.message.text()]))
            case .spaceReturned:
                printAboveLiveLine(say(.cli.batchProgress.spaceReturned))
            }
            drawLiveLine(&state)
        }
    }

    func end() {
        state.withLock {
            $0.ticker?.cancel()
            $0.ticker = nil
            if $0.liveLineShown { io.err("\r\u{1B}[K", terminator: "") }
            $0.liveLineShown = false
        }
    }

    /// "about 2m10s left": the mean time of this run's answers, times what remains, shared among the jobs.
    var estimate: Double? { state.withLock { estimate(of: $0) } }

    private func estimate(of state: State) -> Double? {
        guard !state.finishedThisRun.isEmpty else { return nil }
        let mean = state.finishedThisRun.reduce(0, +) / Double(state.finishedThisRun.count)
        let remaining = Double(total - state.done)
        return (remaining / Double(jobs)).rounded(.up) * mean
    }

    private func printAboveLiveLine(_ line: String) {
        io.err((io.errorIsTerminal ? "\r\u{1B}[K" : "") + line)
    }

    private func drawLiveLine(_ state: inout State) {
        guard io.errorIsTerminal, state.ticker != nil || !state.liveLineShown else { return }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var line =
            "[\(state.done)/\(total)] "
            + say(
                .cli.batchProgress.running,
                ["count": "\(state.running.count)", "elapsed": Self.duration(seconds)])
        if let estimate = estimate(of: state) {
            line += say(.cli.batchProgress.left, ["left": Self.duration(estimate)])
        }
        if !state.running.isEmpty { line += " · " + state.running.joined(separator: ", ") }
        if line.count > 110 { line = String(line.prefix(109)) + "…" }
        io.err("\r\u{1B}[K" + io.errorStyle.dim(line), terminator: "")
        state.liveLineShown = true
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return whole >= 60 ? "\(whole / 60)m\(String(format: "%02d", whole % 60))s" : "\(whole)s"
    }
}
