import Foundation
import HandsOnEngine
import HandsOnKit
import Synchronization

/// Shows long work: on a terminal one status line redrawn in place; into a pipe or file, plain lines
/// (an activity line only when its first word changes, so logs stay short).
final class ProgressReporter: ProgressListener {
    private struct State {
        var lineIsOpen = false
        var lastActivityKind = ""
        var lastDraw: ContinuousClock.Instant?
    }

    private let io: ConsoleIO
    private let state = Mutex(State())

    init(io: ConsoleIO) { self.io = io }

    /// A step worth its own line.
    func step(_ text: String) {
        state.withLock {
            closeLine(&$0)
            io.err(text)
        }
    }

    /// A sub-step, indented.
    func detail(_ text: String) { step("  " + text) }

    /// Chatter from a running tool (debootstrap's "Retrieving ..." lines).
    func activity(_ text: String) {
        state.withLock { state in
            if io.errorIsTerminal {
                let now = ContinuousClock.now
                if let last = state.lastDraw, now - last <= .milliseconds(100) { return }
                state.lastDraw = now
                let width = 100
                let shown = text.count > width ? String(text.prefix(width - 1)) + "…" : text
                io.err("\r\u{1B}[K    " + io.errorStyle.dim(shown), terminator: "")
                state.lineIsOpen = true
            } else {
                let kind = String(text.split(separator: " ").first ?? "")
                guard kind != state.lastActivityKind else { return }
                state.lastActivityKind = kind
                io.err("    " + text)
            }
        }
    }

    func finish() { state.withLock { closeLine(&$0) } }

    private func closeLine(_ state: inout State) {
        if state.lineIsOpen {
            io.err("\r\u{1B}[K", terminator: "")
            state.lineIsOpen = false
        }
    }
}
