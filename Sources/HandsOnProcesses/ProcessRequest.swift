import Foundation

/// One program to run: an executable and an argument array (never a shell string), with a timeout and output caps.
public struct ProcessRequest: Sendable {
    /// A name looked up in `PATH`, or a path containing `/`.
    public var executable: String
    public var arguments: [String]
    /// The child's whole environment; `nil` inherits this process's environment.
    public var environment: [String: String]?
    /// Variables set over `environment` (or over the inherited one): what a caller adds without reading this
    /// process's environment itself.
    public var addedEnvironment: [String: String] = [:]
    public var workingDirectory: String?
    public var standardInput: StandardInput
    /// Seconds before the child is sent SIGTERM (then SIGKILL after `killGrace`).
    public var timeout: Double
    public var killGrace: Double
    /// Bytes kept of each stream (half from the start, half from the end); the rest is counted, not kept.
    public var outputLimit: Int
    /// Called with each chunk as it arrives, on the runner's thread (for streaming to a terminal).
    public var onOutput: (@Sendable (OutputStreamKind, Data) -> Void)?
    /// false for clean-up work (removing a container) that must finish even when its task is cancelled (Ctrl-C):
    /// it is shielded from the cancellation and ended by its own timeout only.
    public var cancellable = true

    public init(
        _ executable: String,
        _ arguments: [String] = [],
        environment: [String: String]? = nil,
        workingDirectory: String? = nil,
        standardInput: StandardInput = .none,
        timeout: Double = 60,
        killGrace: Double = 2,
        outputLimit: Int = 1 << 20,
        onOutput: (@Sendable (OutputStreamKind, Data) -> Void)? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.standardInput = standardInput
        self.timeout = timeout
        self.killGrace = killGrace
        self.outputLimit = outputLimit
        self.onOutput = onOutput
    }

}

/// Where the child's standard input comes from.
public enum StandardInput: Sendable {
    case none
    case bytes(Data)
    case file(String)
}

public enum OutputStreamKind: Sendable {
    case standardOutput
    case standardError
}

/// Quoting for showing commands to people; the runner itself never goes through a shell.
public enum ShellQuoting {
    public static func quoteForDisplay(_ word: String) -> String {
        let safe = CharacterSet(
            charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,")
        if !word.isEmpty, word.unicodeScalars.allSatisfy({ safe.contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
