import Foundation
import HandsOnMessages
import HandsOnProcesses
import Synchronization

public enum EngineKind: String, Sendable, CaseIterable, Codable {
    case docker
    case podman
}

/// Facts about the engine recorded with every grade: the engine's own listings differ between engines and stores.
public struct EngineInfo: Sendable, Codable, Equatable {
    public let name: String
    public let clientVersion: String
    public let version: String
    public let storageDriver: String
    /// Where the engine keeps images; nil in results saved before it was recorded.
    public var store: ImageStore?
    /// What runs `build`; nil in results saved before it was recorded.
    public var builder: ImageBuilder?
    /// The address the engine was reached at (`DOCKER_HOST`), nil for the default.
    public var host: String?
    /// `cgroupfs` or `systemd`: how the engine names the cgroups of its containers.
    public var cgroupDriver: String?
    /// The CPUs the engine's machine has (a batch's default number of jobs on it).
    public var cpus: Int?
    /// Whether the engine runs as an ordinary user (rootless Docker or Podman); nil when not known.
    public var rootless: Bool?
    /// Docker's data root on its machine (`DockerRootDir`), where HandsOn finds the containerd store's layers.
    public var dataRoot: String?
    /// The buildx plugin's binary, run on its own for builds (`docker-buildx build`: half the CPU of `docker build`,
    /// which starts the docker CLI and asks the plugin for its metadata first).
    public var buildxPlugin: String?
    /// The daemon's id (`docker info`'s `ID`), by which HandsOn knows the socket it speaks to leads to this engine.
    public var daemonID: String?
    /// The daemon's process as HandsOn's pid namespace numbers it (from its socket's peer): 0 when HandsOn cannot
    /// see it (HandsOn in a container of its own); nil when unknown (Podman, a remote engine).
    public var daemonProcessID: Int32?

    /// The data root as HandsOn reaches it: through the daemon's own root (`/proc/PID/root`) where HandsOn runs in a
    /// file system of its own beside the engine (a container sharing the machine's processes); else as the engine
    /// names it.
    public var reachableDataRoot: String? {
        guard let dataRoot, let daemon = daemonProcessID, daemon > 0 else { return dataRoot }
        var own = stat()
        var daemons = stat()
        guard stat("/", &own) == 0, stat("/proc/\(daemon)/root/", &daemons) == 0,
            own.st_dev != daemons.st_dev || own.st_ino != daemons.st_ino
        else { return dataRoot }
        return "/proc/\(daemon)/root\(dataRoot)"
    }

    /// Whether the engine runs on this machine (its socket is local), so a cgroup made here can hold its builds.
    public var isLocal: Bool { ContainerEngine.isLocal(address: host) }
}

public enum EngineError: MessageError {
    /// No engine answered; the message says how to start one.
    case unavailable(Message)
    case commandFailed(ProcessResult)
    /// The engine printed what HandsOn cannot read; the text names the command and what it expected.
    case unexpectedOutput(String)

    public var message: Message {
        switch self {
        case .unavailable(let message): return message
        case .commandFailed(let result): return .literal(result.failureSummary)
        case .unexpectedOutput(let text): return .literal(text)
        }
    }
}

/// The docker or podman CLI, driven with argument arrays. Everything that talks to an engine goes through here.
public struct ContainerEngine: EngineOperations {
    public let kind: EngineKind
    public let runner: any ProcessRunning
    /// The CLI's whole environment (`DOCKER_HOST`, `PATH`, ...): given by the caller, never read from this process, so
    /// a test sees no variable of the shell that started it.
    public let environment: [String: String]
    /// Where image measurements are remembered: in memory unless the caller gives a folder (the CLI gives the user's).
    public var sizeCache: MeasuredSizeCache
    /// The engine's facts once asked, shared by the copies of this value.
    private let infoMemo = InfoMemo()

    public init(
        kind: EngineKind, runner: any ProcessRunning, environment: [String: String],
        sizeCache: MeasuredSizeCache = MeasuredSizeCache(directory: nil)
    ) {
        self.kind = kind
        self.runner = runner
        self.environment = environment
        self.sizeCache = sizeCache
    }

    public func reached(at address: EngineAddress) -> any EngineOperations {
        ContainerEngine(
            kind: kind, runner: runner, environment: address.environment(for: kind, base: environment),
            sizeCache: sizeCache)
    }

    private final class InfoMemo: Sendable {
        let value = Mutex<EngineInfo?>(nil)
    }

    /// The Engine API's socket once looked for, shared by the copies of this value.
    let apiMemo = EngineAPIMemo()
    /// Base images recently inspected for measuring, shared by the copies of this value.
    let baseImageMemo = BaseImageMemo()

    /// Runs `docker|podman ARGUMENTS` (or another of the engine's programs, `executable`, with the engine's
    /// environment, or `environment` when given) and returns whatever happened.
    public func execute(
        _ arguments: [String], executable: String? = nil, environment: [String: String]? = nil, timeout: Double = 60,
        input: StandardInput = .none, outputLimit: Int = 1 << 20, cancellable: Bool = true,
        onOutput: (@Sendable (OutputStreamKind, Data) -> Void)? = nil
    ) async throws -> ProcessResult {
        var request = ProcessRequest(
            executable ?? kind.rawValue, arguments, environment: environment ?? self.environment, standardInput: input,
            timeout: timeout, outputLimit: outputLimit, onOutput: onOutput)
        request.cancellable = cancellable
        return try await runner.run(request)
    }

    /// Runs clean-up work, which goes on after Ctrl-C (within its timeout).
    func cleanUp(_ arguments: [String], executable: String? = nil, timeout: Double = 120) async -> ProcessResult? {
        try? await execute(arguments, executable: executable, timeout: timeout, cancellable: false)
    }

    /// Runs and throws `EngineError.commandFailed` unless it succeeded.
    @discardableResult
    public func checked(
        _ arguments: [String], timeout: Double = 60, input: StandardInput = .none,
        onOutput: (@Sendable (OutputStreamKind, Data) -> Void)? = nil
    ) async throws -> ProcessResult {
        let result = try await execute(arguments, timeout: timeout, input: input, onOutput: onOutput)
        guard result.succeeded else { throw EngineError.commandFailed(result) }
        return result
    }

    /// Finds a working engine: the one asked for, else docker, else podman.
    public static func detect(
        preferred: EngineKind? = nil, runner: any ProcessRunning,
        environment: [String: String], sizeCache: MeasuredSizeCache = MeasuredSizeCache(directory: nil)
    ) async throws -> ContainerEngine {
        let candidates = preferred.map { [$0] } ?? EngineKind.allCases
        var reasons: [Message] = []
        for kind in candidates {
            let engine = ContainerEngine(kind: kind, runner: runner, environment: environment, sizeCache: sizeCache)
            switch await engine.probe() {
            case .success: return engine
            case .failure(let reason): reasons.append(reason.message)
            }
        }
        throw EngineError.unavailable(
            Message(.engine.noneAnswers, parts: ["reasons": Message.list(reasons, separator: .list.semicolon)]))
    }

    /// Whether this engine's CLI exists and its daemon (for docker) answers: one `info` call, whose facts are
    /// remembered for `cachedInfo()`.
    public func probe() async -> Result<Void, ProbeFailure> {
        do {
            let result = try await execute(["info", "--format", infoFormat], timeout: 20)
            guard result.succeeded else {
                let detail = result.standardError.lastLines(1)
                return .failure(
                    ProbeFailure(
                        detail.isEmpty
                            ? Message(.engine.doesNotAnswer, ["engine": kind.rawValue])
                            : Message(.engine.doesNotAnswerSaying, ["engine": kind.rawValue, "detail": detail])))
            }
            if let info = try? parseInfo(result.stdout) {
                let known = await withDaemonProcess(info)
                infoMemo.value.withLock { $0 = known }
            }
            return .success(())
        } catch {
            return .failure(ProbeFailure(Message(.engine.notInstalled, ["engine": kind.rawValue])))
        }
    }

    /// Why an engine does not answer, rendered where it is shown.
    public struct ProbeFailure: MessageError {
        public let message: Message
        init(_ message: Message) { self.message = message }
    }

    public func info() async throws -> EngineInfo {
        await withDaemonProcess(try parseInfo(await checked(["info", "--format", infoFormat]).stdout))
    }

    /// `info` with the Docker daemon's process as this process sees it, asked of its socket's peer: only where the
    /// socket leads to the daemon `docker info` described (its id), as for the Engine API (a context's daemon is
    /// another socket's; a fake engine gives no id, and no socket is looked for).
    private func withDaemonProcess(_ info: EngineInfo) async -> EngineInfo {
        guard let socket = apiSocketPath, await engineAPI(knowing: info) != nil else { return info }
        var known = info
        known.daemonProcessID = await BlockingWork.run { UnixSocketHTTPClient.serverProcessID(of: socket) }
        return known
    }

    /// One call: the client's version (and for docker its plugins), the daemon's version, its storage driver, whether
    /// the containerd snapshotter is behind it, and the cgroup driver.
    private var infoFormat: String {
        switch kind {
        case .docker:
            return "{{.ClientInfo.Version}}|{{.ServerVersion}}|{{.Driver}}|{{.DriverStatus}}|"
                + "{{range .ClientInfo.Plugins}}{{.Name}}={{.Path}} {{end}}|{{.CgroupDriver}}|{{.NCPU}}|{{.SecurityOptions}}|"
                + "{{.DockerRootDir}}|{{.ID}}"
        case .podman:
            return
                "{{.Version.Version}}|{{.Store.GraphDriverName}}|{{.Host.CgroupManager}}|{{.Host.CPUs}}|{{.Host.Security.Rootless}}|{{.Store.GraphRoot}}"
        }
    }

    private func parseInfo(_ text: String) throws -> EngineInfo {
        let fields = text.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: "|", omittingEmptySubsequences: false
        ).map(String.init)
        switch kind {
        case .docker:
            guard (6...10).contains(fields.count) else {
                throw EngineError.unexpectedOutput(
                    "`docker info` gave '\(fields.joined(separator: "|"))', not client|server|driver|status|plugins|cgroup driver|cpus"
                )
            }
            let store: ImageStore = fields[3].contains("io.containerd.snapshotter") ? .containerd : .dockerGraphDriver
            // `name=path` each (`name` alone in older records and fakes).
            let plugins = fields[4].split(separator: " ").map {
                $0.split(separator: "=", maxSplits: 1).map(String.init)
            }
            let buildx = plugins.first { $0.first == "buildx" && $0.count == 2 && $0[1].hasPrefix("/") }.map { $0[1] }
            return EngineInfo(
                name: "docker", clientVersion: fields[0], version: fields[1], storageDriver: fields[2],
                store: store,
                builder: ImageBuilder.docker(plugins: plugins.map(\.[0]), environment: environment),
                host: address, cgroupDriver: fields[5], cpus: fields.count > 6 ? Int(fields[6]) : nil,
                rootless: fields.count > 7 ? fields[7].contains("name=rootless") : nil,
                dataRoot: fields.count > 8 && !fields[8].isEmpty ? fields[8] : nil, buildxPlugin: buildx,
                daemonID: fields.count > 9 && !fields[9].isEmpty ? fields[9] : nil)
        case .podman:
            guard (3...6).contains(fields.count) else {
                throw EngineError.unexpectedOutput(
                    "`podman info` gave '\(fields.joined(separator: "|"))', not version|driver|cgroup manager|cpus")
            }
            return EngineInfo(
                name: "podman", clientVersion: fields[0], version: fields[0], storageDriver: fields[1],
                store: .podman, builder: .buildah,
                host: address, cgroupDriver: fields[2], cpus: fields.count > 3 ? Int(fields[3]) : nil,
                rootless: fields.count > 4 ? fields[4] == "true" : nil,
                dataRoot: fields.count > 5 && !fields[5].isEmpty ? fields[5] : nil)
        }
    }

    /// The engine's facts if they have been asked already (no call made).
    var memorizedInfo: EngineInfo? { infoMemo.value.withLock { $0 } }

    /// `info()`, asked once for this engine (and its copies) and remembered.
    public func cachedInfo() async -> EngineInfo? {
        if let known = memorizedInfo { return known }
        guard let info = try? await info() else { return nil }
        infoMemo.value.withLock { $0 = info }
        return info
    }

    /// Where this engine is reached, as `--hosts` writes it: the socket URL (`DOCKER_HOST`, `CONTAINER_HOST`) or
    /// `context:NAME` (`DOCKER_CONTEXT`, `CONTAINER_CONNECTION`); nil for the CLI's default.
    public var address: String? {
        let variables = kind == .docker ? ("DOCKER_HOST", "DOCKER_CONTEXT") : ("CONTAINER_HOST", "CONTAINER_CONNECTION")
        if let host = environment[variables.0], !host.isEmpty { return host }
        if let context = environment[variables.1], !context.isEmpty { return "context:\(context)" }
        return nil
    }

    /// Whether the engine runs on this machine, reached through a local socket (so its published ports are here too).
    public var isLocal: Bool { Self.isLocal(address: address) }

    /// An address is on this machine when it is a local socket, or the CLI's default (nil).
    static func isLocal(address: String?) -> Bool { address.map { $0.hasPrefix("unix://") } ?? true }

    /// Whether the engine answers now (never the remembered facts): one `_ping` over the Engine API where it is
    /// spoken, else one short `version` call.
    public func answers(timeout: Double) async -> Bool {
        // A failed request is asked again of the CLI, which says the same of a daemon that is gone.
        if await viaAPI({ try await $0.ping(timeout: timeout) }) == true { return true }
        let arguments = kind == .docker ? ["version", "--format", "{{.Server.Version}}"] : ["version"]
        return (try? await execute(arguments, timeout: timeout).succeeded) ?? false
    }
}

/// Where an engine keeps images, which decides what its own listing counts.
public enum ImageStore: String, Sendable, Codable, Equatable {
    /// Docker's classic store (overlay2 and the other graph drivers): file bytes per layer.
    case dockerGraphDriver = "graph-driver"
    /// Docker's containerd image store (the default of fresh Docker 29 installs).
    case containerd
    case podman

    /// What the engine's own SIZE column counts, in one phrase.
    public var listingMeaning: String { listingMeaningMessage.text() }

    public var listingMeaningMessage: Message {
        switch self {
        case .dockerGraphDriver: return Message(.containerEngine.fileBytesPerLayer)
        case .containerd: return Message(.containerEngine.containerdStoreCompressedContent)
        case .podman: return Message(.containerEngine.podmanUncompressedLayerArchives)
        }
    }
}

/// What runs an engine's `build`.
public enum ImageBuilder: String, Sendable, Codable, Equatable {
    /// Docker's legacy builder (`DOCKER_BUILDKIT=0`, or no buildx plugin).
    case classic
    /// BuildKit through the buildx plugin (what `docker build` is since Docker 23).
    case buildkit
    /// Podman's builder.
    case buildah

    /// The docker CLI uses BuildKit when the buildx plugin is there, unless DOCKER_BUILDKIT says 0 or false.
    static func docker(plugins: [String], environment: [String: String]) -> ImageBuilder {
        if let setting = environment["DOCKER_BUILDKIT"]?.lowercased(), setting == "0" || setting == "false" {
            return .classic
        }
        return plugins.contains("buildx") ? .buildkit : .classic
    }
}
