import Foundation

/// A batch's progress on stderr: on a terminal, finished answers scroll above one live line (done/total, running,
/// elapsed, estimate) redrawn every second; into a pipe or file, one plain line per started and finished answer.
final class BatchProgress: @unchecked Sendable {
    private let io: ConsoleIO
    private let total: Int
    private let jobs: Int
    private let lock = NSLock()
    private var done: Int
    private var running: [String] = []
    private var finishedThisRun: [Double] = []
    private let started = Date()
    private var timer: DispatchSourceTimer?
    private var liveLineShown = false

    init(io: ConsoleIO, total: Int, alreadyDone: Int, jobs: Int) {
        self.io = io
        self.total = total
        self.done = alreadyDone
        self.jobs = jobs
    }

    func begin() {
        guard io.errorIsTerminal else { return }
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + 1, repeating: 1)
        timer.setEventHandler { [weak self] in self?.lock.withLock { self?.drawLiveLine() } }
        timer.resume()
        self.timer = timer
        lock.withLock { drawLiveLine() }
    }

    func handle(_ event: BatchEvent) {
        lock.withLock {
            switch event {
            case .started(let submission):
                running.append(submission.name)
                if !io.errorIsTerminal { io.err("[\(done)/\(total)] started \(submission.name)") }
            case .finished(let report, let saveError):
                running.removeAll { $0 == report.submission }
                done += 1
                finishedThisRun.append(report.durationSeconds)
                let failed = report.checks.filter { !$0.passed }.map(\.id)
                var line = "[\(done)/\(total)] \(report.submission): \(report.score)/\(report.maxScore)"
                    + (report.image.map { " (\($0.size))" } ?? "") + String(format: " in %.1f s", report.durationSeconds)
                    + (failed.isEmpty ? "" : "; failed: " + failed.joined(separator: ", "))
                if let saveError { line += " — NOT SAVED: \(saveError)" }
                printAboveLiveLine(line)
            case .cancelled(let submission):
                running.removeAll { $0 == submission.name }
                printAboveLiveLine("\(submission.name): stopped, not saved")
            }
            drawLiveLine()
        }
    }

    func end() {
        timer?.cancel()
        timer = nil
        lock.withLock {
            if liveLineShown { io.err("\r\u{1B}[K", terminator: "") }
            liveLineShown = false
        }
    }

    /// "about 2m10s left": the mean time of this run's answers, times what remains, shared among the jobs.
    var estimate: Double? {
        guard !finishedThisRun.isEmpty else { return nil }
        let mean = finishedThisRun.reduce(0, +) / Double(finishedThisRun.count)
        let remaining = Double(total - done)
        return (remaining / Double(jobs)).rounded(.up) * mean
    }

    private func printAboveLiveLine(_ line: String) {
        io.err((io.errorIsTerminal ? "\r\u{1B}[K" : "") + line)
    }

    private func drawLiveLine() {
        guard io.errorIsTerminal, timer != nil || !liveLineShown else { return }
        let elapsed = Date().timeIntervalSince(started)
        var line = "[\(done)/\(total)] \(running.count) running · \(Self.duration(elapsed)) elapsed"
        if let estimate { line += " · about \(Self.duration(estimate)) left" }
        if !running.isEmpty { line += " · " + running.joined(separator: ", ") }
        if line.count > 110 { line = String(line.prefix(109)) + "…" }
        io.err("\r\u{1B}[K" + io.errorStyle.dim(line), terminator: "")
        liveLineShown = true
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return whole >= 60 ? "\(whole / 60)m\(String(format: "%02d", whole % 60))s" : "\(whole)s"
    }
}
