import Foundation
import Synchronization
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnProcesses
@testable import handson

/// Switches and helpers for the tests that need a real engine.
enum EndToEnd {
    static let environment = ProcessInfo.processInfo.environment
    /// On with HANDSON_E2E=1 (make test) or CI=true; in CI a missing engine fails the test instead of skipping it.
    static let isEnabled = environment["HANDSON_E2E"] == "1" || environment["CI"] == "true"
    static let runner = SystemProcessRunner()

    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var appsDirectory: String { "\(repositoryRoot)/apps" }

    /// The engine, or a recorded failure (never a silent skip once enabled).
    static func engine(_ kind: EngineKind = .docker) async throws -> ContainerEngine {
        do {
            return try await ContainerEngine.detect(
                preferred: kind, runner: runner, environment: ProcessInfo.processInfo.environment)
        } catch {
            Issue.record("no \(kind.rawValue) engine answers: \(error)")
            throw error
        }
    }

    /// Each engine's lab is prepared once per test run; later callers wait for the first.
    private static let labPreparations = Mutex<[String: Task<[LabImageStatus], any Error>]>([:])

    /// Prepares every lab image once per test run (from nothing on a new machine).
    static func prepareLab(on engine: ContainerEngine) async throws -> [LabImageStatus] {
        let key = "\(engine.kind.rawValue) \(engine.address ?? "default")"
        let preparation = labPreparations.withLock { running in
            if let existing = running[key] { return existing }
            let started = Task {
                let preparer = LabPreparer(engine: engine, environment: environment)
                let io = ConsoleIO(
                    outputIsTerminal: false, errorIsTerminal: false, environment: [:],
                    writeOutput: { _ in }, writeError: { FileHandle.standardError.write(Data($0.utf8)) })
                return try await preparer.prepare(progress: ProgressReporter(io: io))
            }
            running[key] = started
            return started
        }
        return try await preparation.value
    }
}

/// Names made by one test, removed when it ends (containers first, then images, then new dangling stages).
final class EngineScratchpad {
    let engine: ContainerEngine
    let token = UUID().uuidString.prefix(8).lowercased()
    private var containers: [String] = []
    private var images: [String] = []
    private var buildOutputs: [String] = []

    init(engine: ContainerEngine) {
        self.engine = engine
    }

    func imageTag(_ name: String) -> String {
        let tag = "handson-e2e/\(name):\(token)"
        images.append(tag)
        return tag
    }

    func containerName(_ name: String) -> String {
        let container = "handson-e2e-\(name)-\(token)"
        containers.append(container)
        return container
    }

    /// Writes a Dockerfile into a new temporary folder and returns its path.
    func dockerfile(_ text: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-e2e-\(token)-\(UUID().uuidString.prefix(4))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("Dockerfile").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Builds the sample app (`apps/` as context) with a Dockerfile given by path, or by text when `text` is set;
    /// a failed build is recorded as a test failure with the engine's last lines.
    func buildApp(
        _ name: String, dockerfile path: String? = nil, text: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let tag = imageTag(name)
        let dockerfile = try text.map { try self.dockerfile($0) } ?? path
        let build = try await engine.build(contextDirectory: EndToEnd.appsDirectory, dockerfile: dockerfile, tag: tag)
        buildOutputs.append(build.stdout)
        #expect(build.succeeded, "\(build.failureSummary)", sourceLocation: sourceLocation)
        return tag
    }

    /// A two-stage Dockerfile: the app built with cgo left on (the golang image's default), then `final`.
    static func cgoBuildThen(_ final: String) -> String {
        """
        FROM golang:1.19 AS builder
        WORKDIR /app
        COPY . ./
        RUN go build -o ./server-run ./server
        FROM \(final)
        COPY --from=builder /app/server-run /server-run
        COPY web /web
        CMD ["/server-run"]
        """
    }

    deinit {
        engine.removeNow(containers: containers, images: images, buildOutputs: buildOutputs)
    }
}

/// The suites that grade on the engine run one after another: each checks that no grading label is left on the
/// engine, which another suite's grades in flight would break.
@Suite("Grading on the real engine", .serialized, .enabled(if: EndToEnd.isEnabled))
enum GradingOnTheEngine {}

extension ContainerEngine {
    /// Runs the engine's CLI on this thread: clean-up in a `deinit` or `defer`, which cannot await.
    @discardableResult
    func runNow(_ arguments: [String], timeout: Double = 120) -> ProcessResult? {
        try? SystemProcessRunner().runBlocking(
            ProcessRequest(kind.rawValue, arguments, environment: environment, timeout: timeout))
    }

    /// Removes containers, images, and the untagged stage images the builds printed, now.
    func removeNow(containers: [String] = [], images: [String] = [], buildOutputs: [String] = []) {
        if !containers.isEmpty { runNow(["rm", "-f"] + containers) }
        if !images.isEmpty { runNow(["image", "rm", "-f"] + images) }
        let stages = buildOutputs.flatMap(ContainerEngine.stepImageIDs(inBuildOutput:))
        guard !stages.isEmpty,
            let listing = runNow(["image", "inspect", "--format", "{{.Id}} {{len .RepoTags}}"] + stages)
        else { return }
        let untagged = listing.stdout.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            return fields.count == 2 && fields[1] == "0" ? String(fields[0]) : nil
        }
        if !untagged.isEmpty { runNow(["image", "rm"] + untagged.reversed()) }
    }
}
