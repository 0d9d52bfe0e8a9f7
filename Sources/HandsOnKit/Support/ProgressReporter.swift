import Foundation

/// Shows long work: on a terminal one status line redrawn in place; into a pipe or file, plain lines
/// (an activity line only when its first word changes, so logs stay short).
public final class ProgressReporter: @unchecked Sendable {
    private let io: ConsoleIO
    private let lock = NSLock()
    private var lineIsOpen = false
    private var lastActivityKind = ""
    private var lastDraw = Date.distantPast

    public init(io: ConsoleIO) { self.io = io }

    /// A step worth its own line.
    public func step(_ text: String) {
        lock.withLock {
            closeLine()
            io.err(text)
        }
    }

    /// A sub-step, indented.
    public func detail(_ text: String) { step("  " + text) }

    /// Chatter from a running tool (debootstrap's "Retrieving ..." lines).
    public func activity(_ text: String) {
        lock.withLock {
            if io.errorIsTerminal {
                let now = Date()
                guard now.timeIntervalSince(lastDraw) > 0.1 else { return }
                lastDraw = now
                let width = 100
                let shown = text.count > width ? String(text.prefix(width - 1)) + "…" : text
                io.err("\r\u{1B}[K    " + io.errorStyle.dim(shown), terminator: "")
                lineIsOpen = true
            } else {
                let kind = String(text.split(separator: " ").first ?? "")
                guard kind != lastActivityKind else { return }
                lastActivityKind = kind
                io.err("    " + text)
            }
        }
    }

    public func finish() { lock.withLock { closeLine() } }

    private func closeLine() {
        if lineIsOpen {
            io.err("\r\u{1B}[K", terminator: "")
            lineIsOpen = false
        }
    }
}
