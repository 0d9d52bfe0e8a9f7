import Foundation
import HandsOnMessages

/// How a child ended: its exit code, or the signal that ended it.
public enum Termination: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): return say(.process.exitCode, ["code": "\(code)"])
        case .signaled(let signal): return say(.process.signal, ["signal": "\(signal)"])
        }
    }
}

/// The bytes kept of one output stream: the first and last halves of the cap, and how much there was.
/// Plain byte arrays trimmed in place: a `Data` suffix would keep the whole growing buffer alive behind the slice.
public struct CapturedOutput: Sendable, Equatable {
    private var headBytes: [UInt8] = []
    private var tailBytes: [UInt8] = []
    public internal(set) var totalBytes = 0
    let limit: Int

    package init(limit: Int) { self.limit = max(limit, 0) }

    public var head: Data { Data(headBytes) }
    public var tail: Data { Data(tailBytes) }

    public var isTruncated: Bool { totalBytes > headBytes.count + tailBytes.count }

    /// Bytes of storage held (capacity), which must stay near the cap whatever the stream's length.
    var retainedCapacity: Int { headBytes.capacity + tailBytes.capacity }

    /// Head and tail joined; when bytes were dropped in between, a marker line says how many.
    public var data: Data {
        guard isTruncated else { return Data(headBytes + tailBytes) }
        let marker = "\n[... \(totalBytes - headBytes.count - tailBytes.count) bytes not kept ...]\n"
        return Data(headBytes + Array(marker.utf8) + tailBytes)
    }

    public var text: String { String(decoding: data, as: UTF8.self) }

    /// The last lines of the stream, for error messages.
    public func lastLines(_ count: Int) -> String {
        let lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" })
        return lines.suffix(count).joined(separator: "\n")
    }

    package mutating func append(_ chunk: Data) {
        totalBytes += chunk.count
        var rest = chunk[...]
        let headRoom = limit / 2 - headBytes.count
        if headRoom > 0 {
            headBytes.append(contentsOf: rest.prefix(headRoom))
            rest = rest.dropFirst(headRoom)
        }
        guard !rest.isEmpty else { return }
        let tailLimit = limit - limit / 2
        if rest.count >= tailLimit {
            tailBytes = Array(rest.suffix(tailLimit))
        } else {
            tailBytes.append(contentsOf: rest)
            if tailBytes.count > tailLimit { tailBytes.removeFirst(tailBytes.count - tailLimit) }
        }
    }
}

/// What a finished child left behind.
public struct ProcessResult: Sendable {
    public let command: [String]
    public let termination: Termination
    /// The runner ended the child because its timeout passed.
    public let timedOut: Bool
    /// The runner ended the child because the run was cancelled (Ctrl-C).
    public let cancelled: Bool
    public let standardOutput: CapturedOutput
    public let standardError: CapturedOutput
    public let durationSeconds: Double

    public init(
        command: [String], termination: Termination, timedOut: Bool = false, cancelled: Bool = false,
        standardOutput: CapturedOutput, standardError: CapturedOutput, durationSeconds: Double
    ) {
        self.command = command
        self.termination = termination
        self.timedOut = timedOut
        self.cancelled = cancelled
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.durationSeconds = durationSeconds
    }

    public var succeeded: Bool { termination == .exited(0) && !timedOut && !cancelled }
    public var stdout: String { standardOutput.text }
    public var stderr: String { standardError.text }

    /// One sentence on how the child ended, with the tail of its stderr where it failed.
    public var failureSummary: String {
        let commandLine = command.map(ShellQuoting.quoteForDisplay).joined(separator: " ")
        var text: String
        if timedOut {
            text = say(.process.didNotFinish, ["command": commandLine])
        } else if cancelled {
            text = say(.process.cancelled, ["command": commandLine])
        } else {
            text = say(.process.endedWith, ["command": commandLine, "termination": "\(termination)"])
        }
        let tail = standardError.lastLines(5)
        if !tail.isEmpty { text += ": " + tail }
        return text
    }
}

extension CapturedOutput {
    /// Output made by hand, for fake runners in tests.
    public static func of(_ text: String, limit: Int = 1 << 20) -> CapturedOutput {
        var output = CapturedOutput(limit: limit)
        output.append(Data(text.utf8))
        return output
    }
}
