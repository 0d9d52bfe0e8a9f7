import Foundation
import HandsOnTestSupport
import Synchronization

@testable import HandsOnEngine
@testable import HandsOnFormats
@testable import HandsOnKit
@testable import HandsOnProcesses

/// Engines faked at the level grading speaks to them (`EngineOperations`), one per address ("default" without one),
/// sharing one record of what was asked. An answer folder builds into an image whose one file holds as many bytes as
/// the folder's `bytes` file says, and whose container prints its `prints` file (else "ok"); a folder with a `broken`
/// file fails to build. An engine can be stopped (it answers nothing after), and a phase of the grade can be made to
/// hang until its task is cancelled. No process is started and no command line is read.
final class FakeEngines: Sendable {
    enum Phase: String, Sendable, CaseIterable { case build, measure, gate }

    /// One operation asked of an engine.
    enum Call: Equatable, Sendable {
        case facts
        case build(folder: String, arguments: [String])
        case resolve(String)
        case measure(String)
        case audit(String)
        case removeImages([String])
        case removeBatchImages(tagPrefix: String)
        case removeUntagged([String])
        case listCache
        case removeCache(added: Set<String>)
        case run(image: String)
        case start(image: String)
        case state(String)
        case processID(String)
        case logs(String)
        case processUsers(String)
        case runningContainers(image: String)
        case runBeside(String)
        case fileDigest(String)
        case removeContainers([String])
        case sweepContainers(label: String)
        case events

        /// The operation's name without its values (`build`, `listCache`), for counting.
        var name: String { String("\(self)".prefix { $0 != "(" }) }
    }

    private struct State {
        /// The folder each engine's image was built from, by engine and tag (each engine has images of its own).
        var folders: [String: String] = [:]
        var down: Set<String> = []
        var builds: [(host: String, folder: String)] = []
        var removed: [String] = []
        var hangs: Phase?
        var calls: [(host: String, call: Call)] = []
        var reached: Set<Phase> = []
        /// BuildKit's cache records on each engine: one per build, until removed.
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

    /// The engine at `address` (nil: the default one, on this machine).
    func engine(_ address: String? = nil) -> FakeEngine { FakeEngine(address: address, world: self) }

    func stop(_ host: String) { state.withLock { _ = $0.down.insert(host) } }
    func hang(at phase: Phase) { state.withLock { $0.hangs = phase } }
    func reached(_ phase: Phase) -> Bool { state.withLock { $0.reached.contains(phase) } }
    var builds: [(host: String, folder: String)] { state.withLock { $0.builds } }
    /// Every operation asked of the engines, in order.
    var calls: [Call] { state.withLock { $0.calls.map(\.call) } }
    /// The operations asked of one engine, in order.
    func calls(on host: String) -> [Call] { state.withLock { $0.calls.filter { $0.host == host }.map(\.call) } }
    /// How many times an operation was asked of one engine (of every engine when `host` is nil).
    func count(_ name: String, on host: String? = nil) -> Int {
        (host.map(calls(on:)) ?? calls).filter { $0.name == name }.count
    }
    var removedImages: [String] { state.withLock { $0.removed } }
    /// The cache records an engine keeps now.
    func cacheRecords(on host: String) -> Set<String> { state.withLock { $0.cacheRecords[host, default: []] } }

    fileprivate func record(_ call: Call, on host: String) -> Bool {
        state.withLock {
            $0.calls.append((host, call))
            return !$0.down.contains(host)
        }
    }

    fileprivate func isDown(_ host: String) -> Bool { state.withLock { $0.down.contains(host) } }

    /// Waits until cancelled when `phase` is the one to hang in and reached for the first time.
    fileprivate func enter(_ phase: Phase) async throws {
        if state.withLock({ $0.reached.insert(phase).inserted && $0.hangs == phase }) {
            try await Task.sleep(for: .seconds(600))
        }
    }

    fileprivate func built(_ tag: String, from folder: String, on host: String) {
        state.withLock {
            $0.folders["\(host) \(tag)"] = folder
            $0.builds.append((host, (folder as NSString).lastPathComponent))
            $0.cacheRecords[host, default: []].insert("record\($0.builds.count)")
        }
    }

    fileprivate func folder(of tag: String, on host: String) -> String? {
        state.withLock { $0.folders["\(host) \(tag)"] }
    }

    fileprivate func removed(_ images: [String]) { state.withLock { $0.removed += images } }

    fileprivate func removeRecords(_ ids: Set<String>, on host: String) {
        state.withLock { $0.cacheRecords[host, default: []].subtract(ids) }
    }

    static func text(_ folder: String, _ file: String) -> String {
        ((try? String(contentsOfFile: "\(folder)/\(file)", encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// One engine of `FakeEngines`.
struct FakeEngine: EngineOperations {
    let address: String?
    let world: FakeEngines
    var kind: EngineKind { .docker }
    var isLocal: Bool { ContainerEngine.isLocal(address: address) }
    var runner: any ProcessRunning { FakeProcessRunner() }
    private var host: String { address ?? "default" }

    static func info(_ address: String?) -> EngineInfo {
        EngineInfo(
            name: "docker", clientVersion: "26.1.5", version: "26.1.5", storageDriver: "overlay2",
            store: .dockerGraphDriver, builder: .buildkit, host: address, cgroupDriver: "cgroupfs", cpus: 2)
    }

    func reached(at address: EngineAddress) -> any EngineOperations { world.engine(address.description) }

    private func answered(_ call: FakeEngines.Call) -> Bool { world.record(call, on: host) }

    private func result(_ code: Int32, _ out: String = "", _ err: String = "") -> ProcessResult {
        ProcessResult(
            command: ["fake-engine"], termination: .exited(code), standardOutput: .of(out), standardError: .of(err),
            durationSeconds: 0)
    }

    private var silence: ProcessResult {
        result(1, "", "Cannot connect to the Docker daemon at \(host). Is the docker daemon running?\n")
    }

    func probe() async -> Result<Void, ContainerEngine.ProbeFailure> {
        answered(.facts) ? .success(()) : .failure(ContainerEngine.ProbeFailure(.literal("\(host) does not answer")))
    }

    func cachedInfo() async -> EngineInfo? { answered(.facts) ? Self.info(address) : nil }

    func answers(timeout: Double) async -> Bool { !world.isDown(host) }

    func build(
        contextDirectory: String, dockerfile: String?, tag: String, labels: [String: String], extraArguments: [String],
        timeout: Double, onOutput: (@Sendable (OutputStreamKind, Data) -> Void)?
    ) async throws -> ProcessResult {
        guard answered(.build(folder: (contextDirectory as NSString).lastPathComponent, arguments: extraArguments))
        else { return silence }
        try await world.enter(.build)
        world.built(tag, from: contextDirectory, on: host)
        await world.onBuild(host, contextDirectory)
        if world.isDown(host) { return result(1, "", "error during connect: EOF\n") }
        if FileManager.default.fileExists(atPath: "\(contextDirectory)/broken") {
            return result(1, "", "ERROR: failed to solve: process \"/bin/sh -c false\" did not complete\n")
        }
        return result(0)
    }

    func imageExists(_ reference: String) async -> Bool { await resolveImage(reference) != nil }

    /// The lab's base images are there, and what was built; nothing else is.
    func resolveImage(_ reference: String) async -> String? {
        guard answered(.resolve(reference)) else { return nil }
        return world.folder(of: reference, on: host) != nil || reference.contains("busybox") ? reference : nil
    }

    func sizeReport(_ reference: String, store: ImageStore?, bases: [String]) async throws -> ImageSizeReport {
        guard answered(.measure(reference)) else { throw EngineError.unavailable(.literal(silence.stderr)) }
        try await world.enter(.measure)
        let measurement = try measure(reference)
        return ImageSizeReport(image: reference, measurement: measurement, engineListed: measurement.size, store: store)
    }

    /// The image's archive, one file of the answer's `bytes`, read as every image's is.
    private func measure(_ reference: String) throws -> ImageSizeMeasurement {
        guard let folder = world.folder(of: reference, on: host) else {
            throw EngineError.unexpectedOutput("Error: No such image: \(reference)")
        }
        var reader = ImageArchiveReader()
        var failure: (any Error)?
        FakeImageArchive.stream(files: [("app", Int64(FakeEngines.text(folder, "bytes")) ?? 0)]) { chunk in
            guard failure == nil else { return }
            do { try chunk.withUnsafeBytes { try reader.feed($0) } } catch { failure = error }
        }
        if let failure { throw failure }
        return ImageSizeMeasurement(image: try reader.finish(reference: nil))
    }

    func analyzeImage(_ reference: String, bases: [String]) async throws -> ImageSizeMeasurement {
        guard answered(.measure(reference)) else { throw EngineError.unavailable(.literal(silence.stderr)) }
        return try measure(reference)
    }

    func auditImage(_ reference: String, bases: [String], runningUsers: [String]?, from source: LayerSource)
        async throws -> AuditedImage
    {
        _ = answered(.audit(reference))
        throw EngineError.unexpectedOutput("the fake engine audits no image")
    }

    func editEvidence(image: String, mark: EditMark, labels: [String: String], seconds: Double) async throws
        -> EditEvidence
    {
        .noProgram
    }

    func removeImages(_ references: [String]) async {
        guard answered(.removeImages(references)) else { return }
        let images = references.filter { $0.hasPrefix("handson-grade/") }
        await world.onImageRemoval(host, images)
        world.removed(images)
    }

    func removeImages(repository: String, tagPrefix: String) async {
        _ = answered(.removeBatchImages(tagPrefix: tagPrefix))
    }

    func removeUntaggedImages(_ ids: [String]) async { _ = answered(.removeUntagged(ids)) }

    func buildCacheIDs(builder: ImageBuilder?) async -> Set<String>? {
        guard answered(.listCache), builder == .buildkit else { return nil }
        return world.cacheRecords(on: host)
    }

    func removeBuildCache(addedSince before: Set<String>, builder: ImageBuilder?, untilGone: Bool) async -> Bool {
        let added = world.cacheRecords(on: host).subtracting(before)
        guard answered(.removeCache(added: added)) else { return false }
        if !added.isEmpty {
            await world.onCachePrune(host)
            world.removeRecords(added, on: host)
        }
        return true
    }

    func runToEnd(_ run: ContainerRunRequest, input: Data?, timeout: Double, outputLimit: Int) async throws
        -> ProcessResult
    {
        guard answered(.run(image: run.image)) else { return silence }
        try await world.enter(.gate)
        await world.onGate(host)
        let prints = world.folder(of: run.image, on: host).map { FakeEngines.text($0, "prints") } ?? ""
        return result(0, (prints.isEmpty ? "ok" : prints) + "\n")
    }

    func startContainer(
        image: String, name: String, ports: [PortMapping], labels: [String: String], extraArguments: [String],
        command: [String]
    ) async throws -> String {
        guard answered(.start(image: image)) else { throw EngineError.commandFailed(silence) }
        return name
    }

    func containerState(_ name: String) async throws -> (running: Bool, exitCode: Int?) {
        _ = answered(.state(name))
        return (false, 0)
    }

    func containerProcessID(_ name: String) async throws -> Int32? {
        _ = answered(.processID(name))
        return nil
    }

    func containerLogs(_ name: String) async -> String {
        _ = answered(.logs(name))
        return ""
    }

    func processUsers(_ container: String) async throws -> [String] {
        _ = answered(.processUsers(container))
        return []
    }

    func runningContainers(of image: String, named name: String?) async throws -> [RunningContainer] {
        _ = answered(.runningContainers(image: image))
        return []
    }

    func runBeside(_ container: String, helperImage: String, command: [String], timeout: Double, outputLimit: Int)
        async throws -> ProcessResult
    {
        answered(.runBeside(container)) ? result(1, "", "no such container\n") : silence
    }

    func fileDigest(in folder: String, path: String, helperImage: String, labels: [String: String]) async throws
        -> ContainerEngine.FileOnEngine
    {
        _ = answered(.fileDigest(path))
        return .missing("the fake engine has no files")
    }

    func removeContainers(labelled label: String) async { _ = answered(.sweepContainers(label: label)) }

    func removeContainers(_ names: [String]) async { _ = answered(.removeContainers(names)) }

    func followEvents(retry: Double) -> AsyncStream<EngineEventUpdate> {
        _ = answered(.events)
        return AsyncStream { $0.finish() }
    }
}
