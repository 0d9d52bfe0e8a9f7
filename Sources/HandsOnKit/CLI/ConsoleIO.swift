import Foundation

/// Where commands write: results to stdout, diagnostics to stderr. Tests pass a capturing instance.
public final class ConsoleIO: @unchecked Sendable {
    private let lock = NSLock()
    private let writeOutput: @Sendable (String) -> Void
    private let writeError: @Sendable (String) -> Void
    public let outputIsTerminal: Bool
    public let errorIsTerminal: Bool
    /// Colour for stdout and stderr respectively: only on a terminal, never with NO_COLOR or TERM=dumb.
    public let outputStyle: TextStyle
    public let errorStyle: TextStyle

    public init(outputIsTerminal: Bool, errorIsTerminal: Bool, environment: [String: String],
                writeOutput: @escaping @Sendable (String) -> Void, writeError: @escaping @Sendable (String) -> Void) {
        self.outputIsTerminal = outputIsTerminal
        self.errorIsTerminal = errorIsTerminal
        let colourAllowed = environment["NO_COLOR"].map(\.isEmpty) ?? true
            && environment["TERM"] != "dumb"
        outputStyle = TextStyle(enabled: colourAllowed && outputIsTerminal)
        errorStyle = TextStyle(enabled: colourAllowed && errorIsTerminal)
        self.writeOutput = writeOutput
        self.writeError = writeError
    }

    /// The process's real stdout and stderr.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> ConsoleIO {
        ConsoleIO(
            outputIsTerminal: isatty(STDOUT_FILENO) == 1,
            errorIsTerminal: isatty(STDERR_FILENO) == 1,
            environment: environment,
            writeOutput: { FileHandle.standardOutput.write(Data($0.utf8)) },
            writeError: { FileHandle.standardError.write(Data($0.utf8)) })
    }

    /// Writes a line (or text ending with a newline) to stdout.
    public func out(_ text: String, terminator: String = "\n") {
        lock.withLock { writeOutput(text + terminator) }
    }

    /// Writes a line to stderr.
    public func err(_ text: String, terminator: String = "\n") {
        lock.withLock { writeError(text + terminator) }
    }
}

/// ANSI styling that collapses to plain text when colour is off.
public struct TextStyle: Sendable {
    public let enabled: Bool

    public func bold(_ text: String) -> String { wrap(text, "1") }
    public func dim(_ text: String) -> String { wrap(text, "2") }
    public func red(_ text: String) -> String { wrap(text, "31") }
    public func green(_ text: String) -> String { wrap(text, "32") }
    public func yellow(_ text: String) -> String { wrap(text, "33") }
    public func cyan(_ text: String) -> String { wrap(text, "36") }

    private func wrap(_ text: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
