import Foundation
import HandsOnEngine
import HandsOnKit
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where commands write: results to stdout, diagnostics to stderr. Tests pass a capturing instance.
final class ConsoleIO: Sendable {
    /// One write at a time, so lines from parallel work never interleave.
    private let writing = Mutex(())
    private let writeOutput: @Sendable (String) -> Void
    private let writeError: @Sendable (String) -> Void
    let outputIsTerminal: Bool
    let errorIsTerminal: Bool
    /// Colour for stdout and stderr respectively: only on a terminal, never with NO_COLOR or TERM=dumb.
    let outputStyle: TextStyle
    let errorStyle: TextStyle

    init(
        outputIsTerminal: Bool, errorIsTerminal: Bool, environment: [String: String],
        writeOutput: @escaping @Sendable (String) -> Void, writeError: @escaping @Sendable (String) -> Void
    ) {
        self.outputIsTerminal = outputIsTerminal
        self.errorIsTerminal = errorIsTerminal
        let colourAllowed =
            environment["NO_COLOR"].map(\.isEmpty) ?? true
            && environment["TERM"] != "dumb"
        outputStyle = TextStyle(enabled: colourAllowed && outputIsTerminal)
        errorStyle = TextStyle(enabled: colourAllowed && errorIsTerminal)
        self.writeOutput = writeOutput
        self.writeError = writeError
    }

    /// The process's real stdout and stderr.
    static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> ConsoleIO {
        ConsoleIO(
            outputIsTerminal: isatty(STDOUT_FILENO) == 1,
            errorIsTerminal: isatty(STDERR_FILENO) == 1,
            environment: environment,
            writeOutput: { standardOutputWriter.write($0) },
            writeError: { standardErrorWriter.write($0) })
    }

    private static let standardOutputWriter = DescriptorWriter(STDOUT_FILENO)
    private static let standardErrorWriter = DescriptorWriter(STDERR_FILENO)

    /// Writes a line (or text ending with a newline) to stdout.
    func out(_ text: String, terminator: String = "\n") {
        writing.withLock { _ in writeOutput(text + terminator) }
    }

    /// Writes a line to stderr.
    func err(_ text: String, terminator: String = "\n") {
        writing.withLock { _ in writeError(text + terminator) }
    }
}

/// ANSI styling that collapses to plain text when colour is off.
struct TextStyle: Sendable {
    let enabled: Bool

    func bold(_ text: String) -> String { wrap(text, "1") }
    func dim(_ text: String) -> String { wrap(text, "2") }
    func red(_ text: String) -> String { wrap(text, "31") }
    func green(_ text: String) -> String { wrap(text, "32") }
    func yellow(_ text: String) -> String { wrap(text, "33") }
    func cyan(_ text: String) -> String { wrap(text, "36") }

    private func wrap(_ text: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}

/// Writes to a file descriptor with write(2). When the reader has gone (`handson step | head`), later output is
/// dropped instead of crashing (Foundation's FileHandle.write traps on EPIPE), so cleanups still run.
final class DescriptorWriter: Sendable {
    private let descriptor: Int32
    /// Whether the reader has gone.
    private let closed = Mutex(false)

    init(_ descriptor: Int32) { self.descriptor = descriptor }

    func write(_ text: String) {
        closed.withLock { closed in
            guard !closed else { return }
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
                if written > 0 {
                    bytes = bytes.dropFirst(written)
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    closed = true
                    return
                }
            }
        }
    }
}
