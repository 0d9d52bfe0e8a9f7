import Foundation
import HandsOnFormats
import HandsOnProcesses

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
        image: String, name: String, ports: [PortMapping], labels: [String: String], extraArguments: [String],
        command: [String]
    ) async throws -> String {
        var arguments = ["run", "-d", "--pull", "never", "--name", name]
        for port in ports { arguments += ["-p", port.argument] }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { arguments += ["--label", "\(key)=\(value)"] }
        arguments += extraArguments + [image] + command
        let result = try await checked(arguments, timeout: 60)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether an engine's error text says the image is not there (docker: "No such image", podman: "image not known").
    package static func saysNoSuchImage(_ text: String) -> Bool {
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

    /// The process id, on the engine's machine, of the container's first process; nil when it does not run.
    public func containerProcessID(_ name: String) async throws -> Int32? {
        let text = try await checked(["container", "inspect", "--format", "{{.State.Pid}}", name], timeout: 30).stdout
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)).flatMap { $0 > 0 ? $0 : nil }
    }

    /// `docker ps` filtered by image and name. Podman's image filter (`ancestor`) matches a short name
    /// (`go-image:scratch`) to nothing, so it is given the image's id.
    public func runningContainers(of image: String, named name: String?) async throws -> [RunningContainer] {
        var ancestor = image
        if kind == .podman,
            let id = try? await execute(["image", "inspect", "--format", "{{.Id}}", image], timeout: 30),
            id.succeeded, !id.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        {
            ancestor = id.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var arguments = ["ps", "--filter", "ancestor=\(ancestor)", "--format", "{{.Names}}\t{{.Ports}}"]
        if let name { arguments += ["--filter", "name=^\(name)$"] }
        return try await checked(arguments).stdout.split(separator: "\n").map { row in
            let fields = row.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            return RunningContainer(name: String(fields[0]), ports: fields.count > 1 ? String(fields[1]) : "")
        }
    }

    /// Runs `command` in a throw-away `helperImage` container sharing `container`'s network namespace
    /// (`--network container:NAME`), labelled as a check's so that clean-up finds it.
    public func runBeside(
        _ container: String, helperImage: String, command: [String], timeout: Double, outputLimit: Int
    ) async throws -> ProcessResult {
        let arguments =
            [
                "run", "--rm", "--pull", "never", "--network", "container:\(container)", "--label",
                "org.handson.check=true", helperImage,
            ] + command
        return try await execute(arguments, timeout: timeout, outputLimit: outputLimit)
    }

    public func containerLogs(_ name: String) async -> String {
        if let logs = await viaAPI({ try await $0.containerLogs(name, limit: 64 * 1024) }), let logs {
            return logs.stdout.text + logs.stderr.text
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

    /// Removes containers and their anonymous volumes, stopping them first; ones already gone are not an error.
    public func removeContainers(_ names: [String]) async {
        guard !names.isEmpty else { return }
        if let api = await engineAPI() {
            var answered = true
            for name in names {
                do {
                    try await api.removeContainer(name)
                } catch {
                    apiMemo.noteUnanswered(error)
                    answered = false
                }
            }
            if answered { return }
        }
        // With their anonymous volumes, as `run --rm` and the Engine API's removal take them.
        _ = await cleanUp(["rm", "-f", "-v"] + names, timeout: 60)
    }
}

/// The limits every container started from an answer runs under: memory, processes, CPU, no capabilities, no
/// setuid gains, and a log the engine keeps to 1 MB however much the container prints. The CLI's flags and the
/// Engine API's host configuration are both written from here, so the two ways of running hold the same limits.
public struct ContainerLimits: Sendable, Equatable {
    public var memoryBytes: Int64 = 256 << 20
    public var processes = 128
    public var cpus = 1
    public var logMaxSize = "1m"

    public static let answer = ContainerLimits()

    /// As `docker run` flags.
    public var arguments: [String] {
        [
            "--memory", "\(memoryBytes >> 20)m", "--pids-limit", "\(processes)", "--cpus", "\(cpus)", "--cap-drop",
            "ALL",
            "--security-opt", "no-new-privileges", "--log-opt", "max-size=\(logMaxSize)",
        ]
    }

    /// As the Engine API's `HostConfig` (the network, CPUs and removal are the run's). Memory and swap: the engine
    /// doubles `Memory` for swap when `MemorySwap` is 0, for the CLI's flags as for this.
    func hostConfiguration(network: String, cpuset: String?) -> EngineHostConfiguration {
        EngineHostConfiguration(
            memory: (memoryBytes >> 20) << 20, pidsLimit: processes, nanoCpus: Int64(cpus) * 1_000_000_000,
            logMaxSize: logMaxSize, networkMode: network, cpusetCpus: cpuset)
    }
}

/// The `HostConfig` of the Engine API's `POST /containers/create`: the fields `docker run` sets for an answer's run.
struct EngineHostConfiguration: Encodable, Equatable {
    /// Bytes, a whole number of MiB as the CLI's `--memory 256m` gives.
    var memory: Int64
    var pidsLimit: Int
    var nanoCpus: Int64
    /// The largest log the engine keeps (`--log-opt max-size`).
    var logMaxSize: String
    /// `default`, `none` or `host`.
    var networkMode: String
    var cpusetCpus: String?

    func encode(to encoder: any Encoder) throws {
        var fields = encoder.container(keyedBy: EngineAPIField.self)
        try fields.encode(memory, forKey: "Memory")
        try fields.encode(pidsLimit, forKey: "PidsLimit")
        try fields.encode(nanoCpus, forKey: "NanoCpus")
        try fields.encode(networkMode, forKey: "NetworkMode")
        try fields.encodeIfPresent(cpusetCpus, forKey: "CpusetCpus")
        // As every answer's run: no capability, no privilege gained, the default log driver, removed at its end.
        try fields.encode(["ALL"], forKey: "CapDrop")
        try fields.encode(["no-new-privileges"], forKey: "SecurityOpt")
        var log = fields.nestedContainer(keyedBy: EngineAPIField.self, forKey: "LogConfig")
        try log.encode("", forKey: "Type")
        try log.encode(["max-size": logMaxSize], forKey: "Config")
        try fields.encode(true, forKey: "AutoRemove")
    }
}

/// The body of the Engine API's `POST /containers/create` for a run with its input (`docker run -i`).
struct EngineContainerConfiguration: Encodable, Equatable {
    var image: String
    var command: [String]?
    var labels: [String: String]
    var hostConfig: EngineHostConfiguration

    func encode(to encoder: any Encoder) throws {
        var fields = encoder.container(keyedBy: EngineAPIField.self)
        try fields.encode(image, forKey: "Image")
        try fields.encodeIfPresent(command, forKey: "Cmd")
        try fields.encode(labels, forKey: "Labels")
        try fields.encode(hostConfig, forKey: "HostConfig")
        // As `-i` asks: every stream attached, the input open until the attached client closes its side, no TTY.
        for name in ["AttachStdin", "AttachStdout", "AttachStderr", "OpenStdin", "StdinOnce"] {
            try fields.encode(true, forKey: EngineAPIField(stringLiteral: name))
        }
        try fields.encode(false, forKey: "Tty")
    }
}

/// A field of an Engine API body, by the name the API gives it.
struct EngineAPIField: CodingKey, ExpressibleByStringLiteral {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringLiteral name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// One container run from start to end with its input (`docker run --rm -i`), limited.
public struct ContainerRunRequest: Sendable {
    public enum Network: Sendable {
        /// The engine's default network.
        case standard
        case none
        case host
    }

    public var image: String
    public var name: String
    public var command: [String]
    public var labels: [String: String]
    public var network: Network
    public var limits = ContainerLimits.answer
    /// The CPUs its processes may use (`--cpuset-cpus`), when a grade is pinned.
    public var cpuset: String?

    public init(
        image: String, name: String, command: [String], labels: [String: String], network: Network,
        cpuset: String? = nil
    ) {
        self.image = image
        self.name = name
        self.command = command
        self.labels = labels
        self.network = network
        self.cpuset = cpuset
    }

    /// As `docker run` arguments.
    var arguments: [String] {
        var arguments = ["run", "--rm", "-i", "--pull", "never", "--name", name] + limits.arguments
        if let cpuset { arguments += ["--cpuset-cpus", cpuset] }
        switch network {
        case .standard: break
        case .none: arguments += ["--network", "none"]
        case .host: arguments += ["--network", "host"]
        }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { arguments += ["--label", "\(key)=\(value)"] }
        return arguments + [image] + command
    }

    /// As the body of the Engine API's `POST /containers/create`: what those arguments make.
    var configuration: EngineContainerConfiguration {
        let networkMode =
            switch network {
            case .standard: "default"
            case .none: "none"
            case .host: "host"
            }
        return EngineContainerConfiguration(
            image: image, command: command.isEmpty ? nil : command, labels: labels,
            hostConfig: limits.hostConfiguration(network: networkMode, cpuset: cpuset))
    }
}

extension ContainerEngine {
    /// Runs a container to its end with `input` on its standard input, as `docker run --rm -i` does, and returns how
    /// it ended and what it printed (each stream capped at `outputLimit`), as a process's result. Through the Engine
    /// API where it is spoken here (no docker process), else the CLI; either way a task cancelled before the run
    /// starts throws `CancellationError`, one cancelled while it runs returns a result marked `cancelled`. The
    /// container is removed by the caller, by name.
    public func runToEnd(_ run: ContainerRunRequest, input: Data?, timeout: Double, outputLimit: Int) async throws
        -> ProcessResult
    {
        let command = [kind.rawValue] + run.arguments
        if let api = await engineAPI(), let configuration = try? JSONEncoder().encode(run.configuration) {
            let started = ContinuousClock.now
            let attached = AttachedRun(
                socketPath: api.client.socketPath, name: run.name, configuration: configuration,
                input: input ?? Data(), timeout: timeout, outputLimit: outputLimit, cancellable: true)
            do {
                switch try await attached.run() {
                case .notCreated(let message), .notStarted(let message):
                    // As the CLI ends then: its exit code for the engine's refusal, the engine's words on stderr.
                    return ProcessResult(
                        command: command, termination: .exited(Self.runExitCode(refusal: message)),
                        standardOutput: .of(""), standardError: .of("docker: Error response from daemon: \(message)\n"),
                        durationSeconds: (ContinuousClock.now - started).seconds)
                case .ended(let exitCode, let timedOut, let cancelled, let stdout, let stderr):
                    // Cancelled once started, it ends as the CLI's run then ends: a result that says so.
                    return ProcessResult(
                        command: command, termination: exitCode.map { .exited($0) } ?? .signaled(SIGKILL),
                        timedOut: timedOut, cancelled: cancelled, standardOutput: stdout, standardError: stderr,
                        durationSeconds: (ContinuousClock.now - started).seconds)
                case .lost(let failure, let stdout, var stderr):
                    // It ran: not run again. It ends as `docker run` does when it loses its engine (125).
                    stderr.append(Data("docker: \(failure)\n".utf8))
                    return ProcessResult(
                        command: command, termination: .exited(125), standardOutput: stdout, standardError: stderr,
                        durationSeconds: (ContinuousClock.now - started).seconds)
                }
            } catch .cancelled {
                throw CancellationError()
            } catch {
                // It did not start: what the API left half made goes before the CLI takes the same name.
                apiMemo.noteUnanswered(error)
                await removeContainers([run.name])
            }
        }
        return try await execute(
            run.arguments, timeout: timeout, input: input.map { .bytes($0) } ?? .none, outputLimit: outputLimit)
    }

    /// The exit code `docker run` gives when the engine will not create or start the container: 127 when the
    /// command is not there, 126 when it cannot be run, else 125.
    static func runExitCode(refusal message: String) -> Int32 {
        let notFound = [
            "executable file not found", "no such file or directory", "system cannot find the file specified",
        ]
        if notFound.contains(where: message.contains) { return 127 }
        if message.contains("permission denied") || message.contains("is a directory") { return 126 }
        return 125
    }
}

extension ContainerEngine {
    /// The image's configured user (`Config.User`): empty when it runs as root by default.
    public func imageUser(_ reference: String) async throws -> String {
        if let image = await viaAPI({ try await $0.image(reference) }), let image { return image.user ?? "" }
        let result = try await execute(["image", "inspect", "--format", "{{.Config.User}}", reference], timeout: 30)
        guard result.succeeded else { throw EngineError.commandFailed(result) }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The user ids (or names, where the engine shows names) of a running container's processes.
    public func processUsers(_ container: String) async throws -> [String] {
        let arguments =
            kind == .docker ? ["container", "top", container, "-eo", "pid,uid"] : ["top", container, "pid", "user"]
        let result = try await execute(arguments, timeout: 30)
        guard result.succeeded else { throw EngineError.commandFailed(result) }
        let rows = TextLines.split(result.stdout).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        return rows.dropFirst().compactMap { row in row.split(separator: " ").last.map(String.init) }
    }
}
