import Foundation
import HandsOnTestSupport
import Synchronization

@testable import HandsOnEngine
@testable import HandsOnFormats
@testable import HandsOnKit
@testable import HandsOnProcesses

/// Docker's command line faked by address (`DOCKER_HOST`, "default" without one), for the tests that drive the
/// `handson` command line, which makes its own `ContainerEngine` (grading's own tests fake `EngineOperations` with
/// `FakeEngines`). An answer folder builds into an image whose one file holds as many bytes as the folder's `bytes`
/// file says, and whose container prints its `prints` file (else "ok"); a folder with a `broken` file fails to build.
final class FakeDockerCLI: ProcessRunning, Sendable {
    private struct State {
        var folders: [String: String] = [:]
        var builds = 0
        /// BuildKit's cache records on each engine: one per build, until pruned.
        var cacheRecords: [String: Set<String>] = [:]
    }
    private let state = Mutex(State())

    func run(_ request: ProcessRequest) async throws -> ProcessResult {
        let host = request.environment?["DOCKER_HOST"] ?? "default"
        let arguments = request.arguments
        func answer(_ code: Int32, _ out: String = "", _ err: String = "") -> ProcessResult {
            ProcessResult(
                command: [request.executable] + arguments, termination: .exited(code), standardOutput: .of(out),
                standardError: .of(err), durationSeconds: 0)
        }
        switch arguments.first {
        case "build":
            let folder = arguments[arguments.count - 1]
            let tag = arguments[(arguments.firstIndex(of: "-t") ?? 0) + 1]
            state.withLock {
                $0.folders[tag] = folder
                $0.builds += 1
                $0.cacheRecords[host, default: []].insert("record\($0.builds)")
            }
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
            let folder = arguments.lazy.compactMap { tag in self.state.withLock { $0.folders[tag] } }.first
            return answer(0, (folder.map { Self.text($0, "prints") }.flatMap { $0.isEmpty ? nil : $0 } ?? "ok") + "\n")
        case "info":
            return answer(0, "26.1.5|26.1.5|overlay2|[]|buildx compose |cgroupfs|2|[name=seccomp,profile=builtin]\n")
        case "buildx" where arguments.dropFirst().first == "du":
            let records = state.withLock { $0.cacheRecords[host, default: []] }.sorted()
            return answer(0, records.map { "ID:\t\t\($0)\nReclaimable:\ttrue\n" }.joined(separator: "\n"))
        case "buildx" where arguments.dropFirst().first == "prune":
            // `--filter id=^(a|b)$`
            let filter = arguments.first { $0.hasPrefix("id=") }?.dropFirst("id=^(".count).dropLast(")$".count) ?? ""
            let ids = Set(filter.split(separator: "|").map(String.init))
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
