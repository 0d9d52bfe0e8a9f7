import Foundation
import HandsOnProcesses
import Synchronization

/// What HandsOn adds to the answer's Go file before a rebuild: an `init` that prints a mark chosen for this grade.
/// The source holds the mark in pieces joined by `+`, and the compiler joins them, so only a program built from the
/// edited source holds the mark whole (a copy of the source, or a server reading its own files, does not).
public struct EditMark: Sendable, Equatable, Codable {
    public let pieces: [String]

    public init(pieces: [String]) { self.pieces = pieces }

    /// A mark no answer can know in advance.
    public static func fresh() -> EditMark {
        let hex = UUID().uuidString.lowercased().filter(\.isHexDigit)
        return EditMark(pieces: ["handson-edit-", String(hex.prefix(8)), String(hex.dropFirst(8).prefix(8))])
    }

    /// The mark as the rebuilt program prints it and holds it.
    public var printed: String { pieces.joined() }

    /// What is appended to the Go file: valid in any package, with no import (`println` is built in; it writes to
    /// standard error when the program starts).
    public var goSource: String {
        "\n// HandsOn's edit before a timed rebuild\nfunc init() { println("
            + pieces.map { "\"\($0)\"" }.joined(separator: " + ") + ") }\n"
    }
}

/// Whether the edit reached the rebuilt image: the program the image starts holds the mark and prints it.
public enum EditEvidence: Sendable, Equatable, Codable {
    /// `program` (the image's entrypoint) holds the mark and printed it when it started.
    case reached(program: String)
    /// The program the image starts does not hold the mark: it was not built from the edited source.
    case notInProgram(program: String)
    /// The program holds the mark but did not print it within the time a server may take to start.
    case notPrinted(program: String)
    /// The image names no program to start, or it could not be read.
    case noProgram

    public var reached: Bool { if case .reached = self { true } else { false } }
}

extension ContainerEngine {
    /// Reads whether the rebuilt `image` carries `mark`: the program its entrypoint (or command) names holds the mark,
    /// and, started with no network under the answer limits, prints it within `seconds`. Every container made here
    /// carries `labels` and is removed before this returns.
    public func editEvidence(image: String, mark: EditMark, labels: [String: String], seconds: Double) async throws
        -> EditEvidence
    {
        let candidates = try await programPaths(image)
        guard !candidates.isEmpty else { return .noProgram }
        let name = "handson-edit-\(UUID().uuidString.prefix(12).lowercased())"
        var arguments = ["container", "create", "--pull", "never", "--name", name]
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { arguments += ["--label", "\(key)=\(value)"] }
        arguments += ContainerLimits.answer.arguments + ["--network", "none", image]
        let found: (program: String, holds: Bool)? = try await withCleanUp {
            _ = try await checked(arguments, timeout: 60)
            for path in candidates {
                if let holds = try await file(path, inContainer: name, holds: mark.printed) { return (path, holds) }
            }
            return nil
        } cleanUp: {
            await removeContainers([name])
        }
        guard let found else { return .noProgram }
        guard found.holds else { return .notInProgram(program: found.program) }
        let printed = try await printsAtStart(image, text: mark.printed, labels: labels, seconds: seconds)
        return printed ? .reached(program: found.program) : .notPrinted(program: found.program)
    }

    /// The paths the image's program may be at: its entrypoint's (or command's) first word, taken from the working
    /// folder when relative, or from each folder of the image's PATH when a bare name.
    private func programPaths(_ image: String) async throws -> [String] {
        let config: ImageRuntimeConfig
        do { config = try await imageRuntimeConfig(image) } catch is ImageAuditError { return [] }
        let entrypoint = config.entrypoint ?? []
        guard let program = Self.program(entrypoint.isEmpty ? (config.cmd ?? []) : entrypoint) else { return [] }
        return Self.programPaths(program, workingDirectory: config.workingDir ?? "", environment: config.env ?? [])
    }

    /// The program a command line starts: its first word, or the first word of a shell form's command
    /// (`["/bin/sh", "-c", "./server-run --flag"]`, which is how `CMD ./server-run` is stored).
    static func program(_ arguments: [String]) -> String? {
        guard let first = arguments.first, !first.isEmpty else { return nil }
        if ["/bin/sh", "sh", "/bin/bash", "bash"].contains(first), arguments.count >= 3, arguments[1] == "-c" {
            var words = arguments[2].split(separator: " ")[...]
            if words.first == "exec" { words = words.dropFirst() }
            return words.first.map(String.init)
        }
        return first
    }

    static func programPaths(_ program: String, workingDirectory: String, environment: [String]) -> [String] {
        if program.hasPrefix("/") { return [program] }
        if program.contains("/") {
            let folder = workingDirectory.isEmpty ? "/" : workingDirectory
            return [(folder.hasSuffix("/") ? folder : folder + "/") + program]
        }
        let path =
            environment.first { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        return path.split(separator: ":").map { "\($0)/\(program)" }
    }

    /// Whether the file at `path` in the created container holds `text` (streamed from `cp`, never kept whole); nil
    /// when there is no such file.
    private func file(_ path: String, inContainer name: String, holds text: String) async throws -> Bool? {
        let wanted = Array(text.utf8)
        let found = StreamSearch()
        let result = try await execute(
            ["container", "cp", "\(name):\(path)", "-"], timeout: 120, outputLimit: 64 * 1024
        ) { stream, chunk in
            guard stream == .standardOutput else { return }
            found.state.withLock { state in
                guard !state.found else { return }
                let bytes = state.carry + Array(chunk)
                state.found = Self.contains(bytes, wanted)
                state.carry = Array(bytes.suffix(wanted.count - 1))
            }
        }
        guard result.succeeded else { return nil }
        return found.state.withLock { $0.found }
    }

    /// Whether a streamed text was seen, and the bytes a match may straddle into the next chunk.
    private final class StreamSearch: Sendable {
        let state = Mutex((found: false, carry: [UInt8]()))
    }

    static func contains(_ bytes: [UInt8], _ wanted: [UInt8]) -> Bool {
        guard let first = wanted.first, bytes.count >= wanted.count else { return false }
        var index = 0
        while index <= bytes.count - wanted.count {
            if bytes[index] == first && bytes[index..<index + wanted.count].elementsEqual(wanted) { return true }
            index += 1
        }
        return false
    }

    /// Starts `image` (answer limits, no network) and reads its output until it holds `text`, the container stops, or
    /// `seconds` pass.
    private func printsAtStart(_ image: String, text: String, labels: [String: String], seconds: Double) async throws
        -> Bool
    {
        let name = "handson-edit-run-\(UUID().uuidString.prefix(12).lowercased())"
        return try await withCleanUp {
            _ = try await startContainer(
                image: image, name: name, labels: labels,
                extraArguments: ContainerLimits.answer.arguments + ["--network", "none"])
            let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
            while true {
                if await containerLogs(name).contains(text) { return true }
                let running = (try? await containerState(name).running) ?? false
                if !running || ContinuousClock.now >= deadline {
                    return await containerLogs(name).contains(text)
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        } cleanUp: {
            await removeContainers([name])
        }
    }
}
