import Foundation
import Synchronization

@testable import HandsOnFormats
@testable import HandsOnKit
@testable import HandsOnProcesses

/// Docker's command line faked by address (`DOCKER_HOST`, "default" without one), for the tests that drive the
/// `handson` command line, which makes its own `ContainerEngine` (grading's own tests fake `EngineOperations` with
/// `FakeEngines`). An answer folder builds into an image whose
/// one file holds as many bytes as the folder's `bytes` file says, and whose container prints its `prints` file (else
/// "ok"); a folder with a `broken` file fails to build. An engine can be stopped (it answers nothing after), and a
/// phase of the grade can be made to hang until its task is cancelled.
final class FakeDockerCLI: ProcessRunning, Sendable {
    enum Phase: String, Sendable, CaseIterable { case build, measure, gate }

    private struct State {
        var folders: [String: String] = [:]
        var down: Set<String> = []
        var builds: [(host: String, folder: String)] = []
        var removed: [String] = []
        var hangs: Phase?
        var commands: [(host: String, arguments: [String])] = []
        var reached: Set<Phase> = []
        /// BuildKit's cache records on each engine: one per build, until pruned.
        var cacheRecords: [String: Set<String>] = [:]
    }
    private let state = Mutex(State())
    /// Called as a build starts, with the engine's address and the answer folder.
    let onBuild: @Sendable (_ host: String, _ folder: String) async -> Void
    /// Called as a removal of graded images starts, with the engine's address and the images.
    let onImageRemoval: @Sendable (_ host: String, _ images: [String]) async -> Void
    /// Called as a gate's container is run, with the engine's address.
    let onGate: @Sendable (_ host: String) async -> Void
    /// Called as a removal of cache records starts, with the engine's address.
    let onCachePrune: @Sendable (_ host: String) async -> Void

    init(
        onBuild: @escaping @Sendable (String, String) async -> Void = { _, _ in },
        onImageRemoval: @escaping @Sendable (String, [String]) async -> Void = { _, _ in },
        onGate: @escaping @Sendable (String) async -> Void = { _ in },
        onCachePrune: @escaping @Sendable (String) async -> Void = { _ in }
    ) {
        self.onBuild = onBuild
        self.onImageRemoval = onImageRemoval
        self.onGate = onGate
        self.onCachePrune = onCachePrune
    }

    func stop(_ host: String) { state.withLock { _ = $0.down.insert(host) } }
    func hang(at phase: Phase) { state.withLock { $0.hangs = phase } }
    func reached(_ phase: Phase) -> Bool { state.withLock { $0.reached.contains(phase) } }
    var builds: [(host: String, folder: String)] { state.withLock { $0.builds } }
    /// Every command asked of the engines, in order.
    var commands: [[String]] { state.withLock { $0.commands.map(\.arguments) } }
    /// The commands asked of one engine, in order.
    func commands(on host: String) -> [[String]] {
        state.withLock { $0.commands.filter { $0.host == host }.map(\.arguments) }
    }
    var removedImages: [String] { state.withLock { $0.removed } }
    /// The cache records an engine keeps now.
    func cacheRecords(on host: String) -> Set<String> { state.withLock { $0.cacheRecords[host, default: []] } }

    func run(_ request: ProcessRequest) async throws -> ProcessResult {
        let host = request.environment?["DOCKER_HOST"] ?? "default"
        let arguments = request.arguments
        state.withLock { $0.commands.append((host, arguments)) }
        func answer(_ code: Int32, _ out: String = "", _ err: String = "") -> ProcessResult {
            ProcessResult(
                command: [request.executable] + arguments, termination: .exited(code), standardOutput: .of(out),
                standardError: .of(err), durationSeconds: 0)
        }
        if state.withLock({ $0.down.contains(host) }) {
            return answer(1, "", "Cannot connect to the Docker daemon at \(host). Is the docker daemon running?\n")
        }
        let phase: Phase? =
            switch arguments.first {
            case "build": .build
            case "run": .gate
            case "image" where arguments.dropFirst().first == "save": .measure
            default: nil
            }
        if let phase, state.withLock({ state in state.reached.insert(phase).inserted && state.hangs == phase }) {
            try await Task.sleep(for: .seconds(600))
        }
        switch arguments.first {
        case "build":
            let folder = arguments[arguments.count - 1]
            let tag = arguments[(arguments.firstIndex(of: "-t") ?? 0) + 1]
            state.withLock {
                $0.folders[tag] = folder
                $0.builds.append((host, (folder as NSString).lastPathComponent))
                $0.cacheRecords[host, default: []].insert("record\($0.builds.count)")
            }
            await onBuild(host, folder)
            if state.withLock({ $0.down.contains(host) }) { return answer(1, "", "error during connect: EOF\n") }
            if FileManager.default.fileExists(atPath: "\(folder)/broken") {
                return answer(1, "", "ERROR: failed to solve: process \"/bin/sh -c false\" did not complete\n")
            }
            return answer(0)
        case "image"
        where arguments.count > 1 && arguments[1] == "inspect" && arguments.contains(where: { $0.hasPrefix("{{.Id}}") }):
            let tag = arguments[4]
            guard let folder = state.withLock({ $0.folders[tag] }) else {
                // The lab's base images are there; nothing else is.
                let base = tag.contains("busybox")
                return base
                    ? answer(0, "sha256:\(String(repeating: "b", count: 64))\n")
                    : answer(1, "", "Error: No such image\n")
            }
            let digest = SHA256.hex(Data((folder + Self.text(folder, "bytes")).utf8))
            return answer(0, "sha256:\(digest)\n")
        case "image" where arguments.count > 2 && arguments[1] == "save":
            guard let folder = state.withLock({ $0.folders[arguments[2]] }) else { return answer(1) }
            let bytes = Int64(Self.text(folder, "bytes")) ?? 0
            FakeImageArchive.stream(files: [("app", bytes)]) { request.onOutput?(.standardOutput, $0) }
            return answer(0)
        case "run":
            await onGate(host)
            let folder = arguments.lazy.compactMap { tag in self.state.withLock { $0.folders[tag] } }.first
            return answer(0, (folder.map { Self.text($0, "prints") }.flatMap { $0.isEmpty ? nil : $0 } ?? "ok") + "\n")
        case "image" where arguments.count > 1 && arguments[1] == "rm":
            let images = arguments.filter { $0.hasPrefix("handson-grade/") }
            await onImageRemoval(host, images)
            state.withLock { $0.removed += images }
            return answer(0)
        case "info":
            return answer(0, "26.1.5|26.1.5|overlay2|[]|buildx compose |cgroupfs|2|[name=seccomp,profile=builtin]\n")
        case "buildx" where arguments.dropFirst().first == "du":
            let records = state.withLock { $0.cacheRecords[host, default: []] }.sorted()
            return answer(0, records.map { "ID:\t\t\($0)\nReclaimable:\ttrue\n" }.joined(separator: "\n"))
        case "buildx" where arguments.dropFirst().first == "prune":
            // `--filter id=^(a|b)$`
            let filter = arguments.first { $0.hasPrefix("id=") }?.dropFirst("id=^(".count).dropLast(")$".count) ?? ""
            let ids = Set(filter.split(separator: "|").map(String.init))
            await onCachePrune(host)
            state.withLock { $0.cacheRecords[host, default: []].subtract(ids) }
            return answer(0)
        default:
            return answer(0)
        }
    }

    static func text(_ folder: String, _ file: String) -> String {
        ((try? String(contentsOfFile: "\(folder)/\(file)", encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
