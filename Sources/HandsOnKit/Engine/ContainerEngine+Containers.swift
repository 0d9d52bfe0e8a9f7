import Foundation

/// A port published from a container: `127.0.0.1:9091 -> 9090`.
public struct PortMapping: Sendable, Equatable {
    public let hostAddress: String
    public let hostPort: Int
    public let containerPort: Int

    public init(hostAddress: String = "127.0.0.1", hostPort: Int, containerPort: Int) {
        self.hostAddress = hostAddress
        self.hostPort = hostPort
        self.containerPort = containerPort
    }

    var argument: String { "\(hostAddress):\(hostPort):\(containerPort)" }
}

/// Container operations: start detached, run to completion, stop and remove.
extension ContainerEngine {
    /// Starts a container in the background and returns its id.
    public func startContainer(
        image: String, name: String, ports: [PortMapping] = [], labels: [String: String] = [:],
        extraArguments: [String] = [], command: [String] = []
    ) async throws -> String {
        var arguments = ["run", "-d", "--pull", "never", "--name", name]
        for port in ports { arguments += ["-p", port.argument] }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { arguments += ["--label", "\(key)=\(value)"] }
        arguments += extraArguments + [image] + command
        let result = try await checked(arguments, timeout: 60)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether an engine's error text says the image is not there (docker: "No such image", podman: "image not known").
    static func saysNoSuchImage(_ text: String) -> Bool {
        text.contains("No such image") || text.contains("image not known")
    }

    /// Whether the container is running now, and its exit code if it has stopped.
    public func containerState(_ name: String) async throws -> (running: Bool, exitCode: Int?) {
        if let container = await viaAPI({ try await $0.container(name) }), let container {
            return (container.running, container.exitCode)
        }
        let text = try await checked([
            "container", "inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", name,
        ]).stdout
        let parts = text.split(whereSeparator: \.isWhitespace)
        return (parts.first == "true", parts.count > 1 ? Int(parts[1]) : nil)
    }

    public func containerLogs(_ name: String) async -> String {
        if let logs = await viaAPI({ try await $0.containerLogs(name, limit: 128 * 1024) }), let logs {
            return logs.stdout + logs.stderr
        }
        guard let result = try? await execute(["logs", name], timeout: 30, outputLimit: 64 * 1024) else { return "" }
        return result.stdout + result.stderr
    }

    /// What a file on the engine's machine holds, as its SHA-256, read by a throw-away container (`helperImage`, which
    /// needs `sha256sum`) that mounts `folder` read-only with no network. `.missing` when the folder or the file is not
    /// there: `--mount` reports a missing folder where `-v` would make it.
    public enum FileOnEngine: Sendable, Equatable {
        case digest(String)
        case missing(String)
    }

    public func fileDigest(in folder: String, path: String, helperImage: String, labels: [String: String]) async throws
        -> FileOnEngine
    {
        let name = "handson-files-\(UUID().uuidString.prefix(12).lowercased())"
        var arguments = [
            "run", "--rm", "--name", name, "--pull", "never", "--network", "none", "--read-only",
            "--mount", "type=bind,source=\(folder),target=/handson-files,readonly", "--entrypoint", "sha256sum",
        ]
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { arguments += ["--label", "\(key)=\(value)"] }
        arguments += [helperImage, "/handson-files/\(path)"]
        let result = try await withCleanUp {
            try await execute(arguments, timeout: 60, outputLimit: 64 * 1024)
        } cleanUp: {
            await removeContainers([name])
        }
        if result.succeeded, let digest = result.stdout.split(separator: " ").first, digest.count == 64 {
            return .digest(String(digest))
        }
        let missingMarks = ["No such file", "no such file", "does not exist", "bind source path"]
        if let said = result.stderr.split(separator: "\n").first(where: { line in
            missingMarks.contains { line.contains($0) }
        }) {
            return .missing(said.trimmingCharacters(in: .whitespaces))
        }
        throw EngineError.commandFailed(result)
    }

    /// Removes every container carrying `label` (`key=value`): what a run marked as its own.
    public func removeContainers(labelled label: String) async {
        if let ids = await viaAPI({ try await $0.containerIDs(labelled: label) }) {
            await removeContainers(ids)
            return
        }
        guard let listing = await cleanUp(["ps", "-a", "-q", "--filter", "label=\(label)"], timeout: 60) else { return }
        await removeContainers(listing.stdout.split(separator: "\n").map(String.init))
    }

    /// Removes containers, stopping them first; ones already gone are not an error.
    public func removeContainers(_ names: [String]) async {
        guard !names.isEmpty else { return }
        if let api = await engineAPI() {
            var answered = true
            for name in names {
                do { try await api.removeContainer(name) } catch { answered = false }
            }
            if answered { return }
        }
        _ = await cleanUp(["rm", "-f"] + names, timeout: 60)
    }
}
