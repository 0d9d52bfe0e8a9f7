import Foundation
import HandsOnEngine
import HandsOnProcesses
import Synchronization

/// A process runner that answers from a table: the first rule whose words start the command line wins.
/// Records every request so tests can assert what would have been run.
public final class FakeProcessRunner: ProcessRunning, Sendable {
    public init() {}

    struct Rule: Sendable {
        let prefix: [String]
        let exitCode: Int32
        let stdout: String
        let stderr: String
        /// Computes the answer from the request instead (e.g. writes the file curl's -o names).
        var handler: (@Sendable (ProcessRequest) -> (Int32, String, String))?
    }

    private struct State {
        var rules: [Rule] = []
        var requests: [ProcessRequest] = []
    }
    private let state = Mutex(State())

    /// Answers a command starting with `prefix` (executable first).
    public func on(_ prefix: [String], exit exitCode: Int32 = 0, stdout: String = "", stderr: String = "") {
        state.withLock { $0.rules.append(Rule(prefix: prefix, exitCode: exitCode, stdout: stdout, stderr: stderr)) }
    }

    /// Answers a command starting with `prefix` by calling `handler`.
    public func on(_ prefix: [String], handler: @escaping @Sendable (ProcessRequest) -> (Int32, String, String)) {
        state.withLock { $0.rules.append(Rule(prefix: prefix, exitCode: 0, stdout: "", stderr: "", handler: handler)) }
    }

    public var commands: [[String]] { state.withLock { $0.requests.map { [$0.executable] + $0.arguments } } }

    /// Every request, in order (with its environment).
    public var requests: [ProcessRequest] { state.withLock { $0.requests } }

    /// The last request whose command starts with `prefix`.
    public func lastRequest(_ prefix: [String]) -> ProcessRequest? {
        requests.last { ([$0.executable] + $0.arguments).starts(with: prefix) }
    }

    public func run(_ request: ProcessRequest) throws -> ProcessResult {
        let command = [request.executable] + request.arguments
        let rule: Rule? = state.withLock {
            $0.requests.append(request)
            return $0.rules.first { command.starts(with: $0.prefix) }
        }
        guard let rule else { throw ProcessError.executableNotFound(request.executable) }
        let (code, out, err) = rule.handler?(request) ?? (rule.exitCode, rule.stdout, rule.stderr)
        return ProcessResult(
            command: command, termination: .exited(code),
            standardOutput: .of(out), standardError: .of(err), durationSeconds: 0)
    }
}

/// An engine's `image save` answered with a real docker-archive stream: a manifest and one layer holding one file of
/// the given size (its zero bytes streamed in 1 MiB chunks, so a 958MB image costs no memory).
public enum FakeImageArchive {
    private static let zeros = Data(count: 1 << 20)

    /// Makes `runner` know `name`: a content id of its own and an archive whose files hold `fileBytes`.
    public static func serve(_ name: String, fileBytes: Int64, on runner: FakeProcessRunner, engine: String = "docker")
    {
        serve(name, files: [("blob", fileBytes)], on: runner, engine: engine)
    }

    /// The same with the given files (path, bytes) in its one layer.
    public static func serve(
        _ name: String, files: [(String, Int64)], on runner: FakeProcessRunner, engine: String = "docker"
    ) {
        let id = (UUID().uuidString + UUID().uuidString).replacingOccurrences(of: "-", with: "").lowercased().prefix(64)
        let kind = EngineKind(rawValue: engine) ?? .docker
        for format in ["{{.Id}}", LayersOnDisk.inspectFormat(for: kind)] {
            runner.on([engine, "image", "inspect", "--format", format, name], stdout: "sha256:\(id)\n")
        }
        runner.on([engine, "image", "save", name]) { request in
            stream(files: files) { request.onOutput?(.standardOutput, $0) }
            return (0, "", "")
        }
    }

    public static func stream(files: [(String, Int64)], into sink: (Data) -> Void) {
        let layerSize = files.reduce(Int64(1024)) { $0 + 512 + padded($1.1) }
        let manifest = Data(#"[{"Config":"config.json","RepoTags":["fake:1"],"Layers":["layer/layer.tar"]}]"#.utf8)
        sink(header(name: "manifest.json", size: Int64(manifest.count)))
        sink(manifest + Data(count: Int(padded(Int64(manifest.count)) - Int64(manifest.count))))
        sink(header(name: "layer/layer.tar", size: layerSize))
        for (path, bytes) in files {
            sink(header(name: path, size: bytes))
            var left = bytes
            while left > 0 {
                let chunk = min(left, Int64(zeros.count))
                sink(zeros.prefix(Int(chunk)))
                left -= chunk
            }
            sink(Data(count: Int(padded(bytes) - bytes)))
        }
        sink(Data(count: 1024))  // the layer's end marker
        sink(Data(count: 1024))  // the archive's end marker
    }

    public static func padded(_ size: Int64) -> Int64 { (size + 511) / 512 * 512 }

    /// A ustar header for a regular file.
    public static func header(name: String, size: Int64) -> Data {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) {
            for (index, byte) in text.utf8.enumerated() { block[offset + index] = byte }
        }
        put(name, at: 0)
        put("0000644\0", at: 100)
        put("0000000\0", at: 108)
        put("0000000\0", at: 116)
        put(String(format: "%011llo\0", size), at: 124)
        put("00000000000\0", at: 136)
        block[156] = UInt8(ascii: "0")
        put("ustar\0", at: 257)
        put("00", at: 263)
        put("        ", at: 148)
        let sum = block.reduce(0) { $0 + Int($1) }
        put(String(format: "%06o\0 ", sum), at: 148)
        return Data(block)
    }
}
