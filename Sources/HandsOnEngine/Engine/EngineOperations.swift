import Foundation
import HandsOnProcesses

/// What grading, batches and contests ask of a container engine, an operation at a time: its facts, build, measure,
/// audit, run to the end, serve, remove, build-cache records and events. `ContainerEngine` does each through the
/// Engine API where it is spoken and through the docker or podman CLI otherwise; unit tests put a fake in its place,
/// so they depend on what an engine does, not on the flags of its command line.
public protocol EngineOperations: Sendable {
    var kind: EngineKind { get }
    /// Where the engine is reached (`DOCKER_HOST`, `context:NAME`); nil for the CLI's default.
    var address: String? { get }
    /// Whether the engine runs on this machine, so its containers' processes and published ports are here too.
    var isLocal: Bool { get }
    /// Runs this machine's own programs that go with the engine's containers (curl, nsenter).
    var runner: any ProcessRunning { get }

    /// The same kind of engine reached at `address`, sharing this one's process runner and size cache.
    func reached(at address: EngineAddress) -> any EngineOperations

    // MARK: Facts

    /// Whether the engine exists and answers; its facts are remembered for `cachedInfo()`.
    func probe() async -> Result<Void, ContainerEngine.ProbeFailure>
    /// The engine's facts, asked once and remembered; nil when it does not answer.
    func cachedInfo() async -> EngineInfo?
    /// Whether the engine answers now (never the remembered facts).
    func answers(timeout: Double) async -> Bool

    // MARK: Images

    /// Builds `contextDirectory` into `tag`; a failed build is a result, not an error.
    func build(
        contextDirectory: String, dockerfile: String?, tag: String, labels: [String: String], extraArguments: [String],
        timeout: Double, onOutput: (@Sendable (OutputStreamKind, Data) -> Void)?
    ) async throws -> ProcessResult
    func imageExists(_ reference: String) async -> Bool
    /// The reference under which the engine knows the image (`busybox` as `docker.io/library/busybox:latest`).
    func resolveImage(_ reference: String) async -> String?
    /// HandsOn's own measurement of the image beside the engine's listing.
    func sizeReport(_ reference: String, store: ImageStore?, bases: [String]) async throws -> ImageSizeReport
    /// The image's layers and files, for the contents checks.
    func analyzeImage(_ reference: String, bases: [String]) async throws -> ImageSizeMeasurement
    /// What the security checks read from the image: its user, secrets, history.
    func auditImage(_ reference: String, bases: [String], runningUsers: [String]?, from source: LayerSource)
        async throws -> AuditedImage
    /// Whether a rebuilt image holds the edit made before it was built.
    func editEvidence(image: String, mark: EditMark, labels: [String: String], seconds: Double) async throws
        -> EditEvidence
    /// Removes tagged images (a grade's); what is gone already is no error.
    func removeImages(_ references: [String]) async
    /// Removes the batch's images: those in `repository` whose tag starts with `tagPrefix`.
    func removeImages(repository: String, tagPrefix: String) async
    /// Removes a build's stage images by id, where no tag holds them.
    func removeUntaggedImages(_ ids: [String]) async

    // MARK: Build cache

    /// BuildKit's cache records now; nil where the builder keeps none HandsOn can remove.
    func buildCacheIDs(builder: ImageBuilder?) async -> Set<String>?
    /// Removes the records added since `before`; true when none of them is left.
    @discardableResult
    func removeBuildCache(addedSince before: Set<String>, builder: ImageBuilder?, untilGone: Bool) async -> Bool

    // MARK: Containers

    /// Runs a container to its end with `input` on its standard input (`docker run --rm -i`), as a process's result.
    func runToEnd(_ run: ContainerRunRequest, input: Data?, timeout: Double, outputLimit: Int) async throws
        -> ProcessResult
    /// Starts a container in the background (to serve) and returns its id.
    func startContainer(
        image: String, name: String, ports: [PortMapping], labels: [String: String], extraArguments: [String],
        command: [String]
    ) async throws -> String
    func containerState(_ name: String) async throws -> (running: Bool, exitCode: Int?)
    /// The process id, on the engine's machine, of the container's first process; nil when it does not run.
    func containerProcessID(_ name: String) async throws -> Int32?
    /// The last of what the container printed, both streams.
    func containerLogs(_ name: String) async -> String
    /// The users the container's processes run as (uid for docker, names for podman).
    func processUsers(_ container: String) async throws -> [String]
    /// The running containers made from `image` (and named `name`, when given), with their published ports.
    func runningContainers(of image: String, named name: String?) async throws -> [RunningContainer]
    /// Runs `command` in a throw-away `helperImage` container sharing `container`'s network namespace.
    func runBeside(_ container: String, helperImage: String, command: [String], timeout: Double, outputLimit: Int)
        async throws -> ProcessResult
    /// The SHA-256 of a file in a folder on the engine's machine, read by a helper container.
    func fileDigest(in folder: String, path: String, helperImage: String, labels: [String: String]) async throws
        -> ContainerEngine.FileOnEngine
    func removeContainers(labelled label: String) async
    func removeContainers(_ names: [String]) async

    // MARK: Events

    /// The engine's events as they come, reconnecting after `retry` seconds when the stream ends.
    func followEvents(retry: Double) -> AsyncStream<EngineEventUpdate>
}

/// A running container as `docker ps` lists it: its name and its published ports (`0.0.0.0:8080->9090/tcp`).
public struct RunningContainer: Sendable, Equatable {
    public let name: String
    public let ports: String

    public init(name: String, ports: String) {
        self.name = name
        self.ports = ports
    }
}

extension EngineOperations {
    /// Removes those of a build's step images that no tag names (a multi-stage build's earlier stages); tagged
    /// images, and images other images still build on, stay.
    public func removeUntaggedStepImages(ofBuildOutput text: String) async {
        await removeUntaggedImages(ContainerEngine.stepImageIDs(inBuildOutput: text))
    }

    public func build(
        contextDirectory: String, dockerfile: String? = nil, tag: String, labels: [String: String] = [:],
        extraArguments: [String] = [], timeout: Double = 600
    ) async throws -> ProcessResult {
        try await build(
            contextDirectory: contextDirectory, dockerfile: dockerfile, tag: tag, labels: labels,
            extraArguments: extraArguments, timeout: timeout, onOutput: nil)
    }

    public func sizeReport(_ reference: String, store: ImageStore?) async throws -> ImageSizeReport {
        try await sizeReport(reference, store: store, bases: [])
    }

    public func analyzeImage(_ reference: String) async throws -> ImageSizeMeasurement {
        try await analyzeImage(reference, bases: [])
    }

    public func auditImage(_ reference: String, bases: [String] = [], runningUsers: [String]? = nil) async throws
        -> AuditedImage
    {
        try await auditImage(reference, bases: bases, runningUsers: runningUsers, from: .any)
    }

    @discardableResult
    public func removeBuildCache(addedSince before: Set<String>, builder: ImageBuilder?) async -> Bool {
        await removeBuildCache(addedSince: before, builder: builder, untilGone: false)
    }

    public func startContainer(
        image: String, name: String, ports: [PortMapping] = [], labels: [String: String] = [:],
        extraArguments: [String] = []
    ) async throws -> String {
        try await startContainer(
            image: image, name: name, ports: ports, labels: labels, extraArguments: extraArguments, command: [])
    }

    public func answers() async -> Bool { await answers(timeout: 15) }

    public func followEvents() -> AsyncStream<EngineEventUpdate> { followEvents(retry: 1) }
}
