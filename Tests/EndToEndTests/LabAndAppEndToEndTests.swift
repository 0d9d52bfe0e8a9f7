import Foundation
import Testing

@testable import HandsOnEngine
@testable import HandsOnFormats
@testable import HandsOnKit
@testable import handson

@Suite("Lab images and the sample app on a real Docker engine", .serialized, .enabled(if: EndToEnd.isEnabled))
struct LabAndAppEndToEndTests {
    @Test func labPrepareMakesEveryBaseImageAndLabelsStandIns() async throws {
        let engine = try await EndToEnd.engine()
        let statuses = try await EndToEnd.prepareLab(on: engine)
        #expect(statuses.map(\.reference) == LabImage.catalog.map(\.reference))
        for status in statuses {
            #expect(status.state != .failed && status.state != .missing, "\(status.reference): \(status.message ?? "")")
        }
        let preparer = LabPreparer(engine: engine, environment: EndToEnd.environment)
        for status in await preparer.survey() where status.isStandIn {
            let labels = try await engine.imageLabels(ImageReference(status.reference).qualified)
            #expect(labels[StandInLabel.key] == StandInLabel.value)
            #expect(labels[StandInLabel.forKey] == status.reference)
        }
    }

    /// Builds the busybox recipe under a private name (a shared image is never removed while other tests use it),
    /// then prepares again: the second run finds it and changes nothing.
    @Test func aMissingStandInIsBuiltAndASecondRunChangesNothing() async throws {
        let engine = try await EndToEnd.engine()
        _ = try await EndToEnd.prepareLab(on: engine)
        let pad = EngineScratchpad(engine: engine)
        let reference = pad.imageTag("busybox-rebuilt")
        let image = LabImage(reference, recipe: .busybox)
        var preparer = LabPreparer(engine: engine, environment: EndToEnd.environment)
        preparer.allowPull = false
        let io = ConsoleIO(
            outputIsTerminal: false, errorIsTerminal: false, environment: [:], writeOutput: { _ in },
            writeError: { _ in })
        let built = try await preparer.prepare([image], progress: ProgressReporter(io: io))
        #expect(built.first?.state == .builtStandIn, "\(built.first?.message ?? "")")
        await #expect(try engine.imageLabels(reference)[StandInLabel.forKey] == reference)
        let shell = try await engine.execute(["run", "--rm", reference, "sh", "-c", "echo rebuilt"])
        #expect(shell.stdout == "rebuilt\n")
        let again = try await preparer.prepare([image], progress: ProgressReporter(io: io))
        #expect(again.first?.state == .presentStandIn)
    }

    @Test func parallelPreparersWaitForEachOtherAndBuildOnce() async throws {
        let engine = try await EndToEnd.engine()
        _ = try await EndToEnd.prepareLab(on: engine)
        let pad = EngineScratchpad(engine: engine)
        let image = LabImage(pad.imageTag("busybox-parallel"), recipe: .busybox)
        var offline = LabPreparer(engine: engine, environment: EndToEnd.environment)
        offline.allowPull = false
        let preparer = offline
        let io = ConsoleIO(
            outputIsTerminal: false, errorIsTerminal: false, environment: [:], writeOutput: { _ in },
            writeError: { _ in })
        let states = await withTaskGroup(of: LabImageState.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    (try? await preparer.prepare([image], progress: ProgressReporter(io: io)))?.first?.state ?? .failed
                }
            }
            var all: [LabImageState] = []
            for await state in group { all.append(state) }
            return all
        }
        #expect(states.sorted { $0.rawValue < $1.rawValue } == [.builtStandIn, .presentStandIn])
    }

    @Test func standInsBehaveLikeTheImagesTheyStandFor() async throws {
        let engine = try await EndToEnd.engine()
        _ = try await EndToEnd.prepareLab(on: engine)
        let shell = try await engine.execute(["run", "--rm", "busybox", "sh", "-c", "echo from-busybox; id -u"])
        #expect(shell.stdout == "from-busybox\n0\n")
        let noShell = try await engine.execute(["run", "--rm", "gcr.io/distroless/static-debian12", "sh", "-c", "true"])
        #expect(!noShell.succeeded, "distroless has no shell")
        let user = try await engine.execute([
            "image", "inspect", "--format", "{{.Config.User}}", "gcr.io/distroless/static-debian12:nonroot",
        ])
        #expect(user.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "65532:65532")
        let go = try await engine.execute(["run", "--rm", "golang:1.19", "go", "version"])
        #expect(go.stdout.hasPrefix("go version go1.19"))
        let env = try await engine.execute([
            "run", "--rm", "golang:1.19", "sh", "-c",
            "echo $GOPATH; pwd; for t in gcc make git pkg-config; do command -v $t; done",
        ])
        #expect(env.stdout.hasPrefix("/go\n/go\n"))
        #expect(env.stdout.hasSuffix("/usr/bin/gcc\n/usr/bin/make\n/usr/bin/git\n/usr/bin/pkg-config\n"))
    }

    @Test func theSingleStageAppImageAnswersHealthy() async throws {
        let engine = try await EndToEnd.engine()
        _ = try await EndToEnd.prepareLab(on: engine)
        let pad = EngineScratchpad(engine: engine)
        let tag = try await pad.buildApp("base")
        let observation = try await runAndProbe(tag, pad: pad)
        #expect(observation.isHealthy)
        #expect(observation.httpStatus == 200)
        #expect(observation.body == "{\"status\":\"Healthy\"}\n")
        await #expect(
            try engine.imageSizeBytes(tag) > 300_000_000, "the single-stage image carries the whole tool chain")
    }

    @Test func aScratchImageWithCgoOffAnswersHealthy() async throws {
        let engine = try await EndToEnd.engine()
        _ = try await EndToEnd.prepareLab(on: engine)
        let pad = EngineScratchpad(engine: engine)
        let tag = try await pad.buildApp(
            "scratch", dockerfile: "\(EndToEnd.repositoryRoot)/Chapters/optimize-image/solutions/scratch.Dockerfile")
        await #expect(try runAndProbe(tag, pad: pad).isHealthy)
        let exact = try await engine.imageSizeBytes(tag)
        #expect(exact < 15_000_000)
        let shown = try await #require(DisplayedSize.parse(try engine.displayedImageSize(tag)))
        #expect((shown.minimum...shown.maximum).contains(exact), "the listing's size brackets image inspect's bytes")
    }

    @Test func theSameScratchBuildWithCgoOnDoesNotStart() async throws {
        let engine = try await EndToEnd.engine()
        _ = try await EndToEnd.prepareLab(on: engine)
        let pad = EngineScratchpad(engine: engine)
        let tag = try await pad.buildApp("scratch-cgo", text: EngineScratchpad.cgoBuildThen("scratch"))
        let name = pad.containerName("cgo")
        let started = try? await engine.startContainer(
            image: tag, name: name,
            ports: [PortMapping(hostPort: PortAvailability.ephemeralPort()!, containerPort: 9090)])
        // Depending on the engine the start itself fails, or the container exits at once: either way it never serves.
        if started != nil {
            try await Task.sleep(for: .seconds(1))
            let state = try await engine.containerState(name)
            #expect(!state.running)
            #expect(state.exitCode != 0)
        }
        let inspect = try await engine.execute(["run", "--rm", tag])
        #expect(!inspect.succeeded)
        #expect(
            (inspect.stderr + inspect.stdout).contains("no such file or directory"),
            "the dynamic binary finds no loader in scratch")
    }

    @Test func aMultiStageImageOnTheDistrolessBaseStandInAnswersHealthy() async throws {
        let engine = try await EndToEnd.engine()
        _ = try await EndToEnd.prepareLab(on: engine)
        let pad = EngineScratchpad(engine: engine)
        let tag = try await pad.buildApp(
            "distroless", text: EngineScratchpad.cgoBuildThen("gcr.io/distroless/base-debian12"))
        await #expect(try runAndProbe(tag, pad: pad).isHealthy, "a cgo binary runs on distroless base: glibc is there")
    }

    private func runAndProbe(_ tag: String, pad: EngineScratchpad) async throws -> HealthObservation {
        let port = try #require(PortAvailability.ephemeralPort())
        _ = try await pad.engine.startContainer(
            image: tag, name: pad.containerName("run"),
            ports: [PortMapping(hostPort: port, containerPort: 9090)])
        return try await HealthProbe(runner: EndToEnd.runner).waitUntilHealthy(
            url: "http://127.0.0.1:\(port)/health", deadlineSeconds: 20)
    }
}

@Suite("Podman", .enabled(if: EndToEnd.isEnabled))
struct PodmanEndToEndTests {
    @Test func podmanBuildsAnImageAndReportsItsSize() async throws {
        let engine = try await EndToEnd.engine(.podman)
        let pad = EngineScratchpad(engine: engine)
        let tag = try await pad.buildApp("podman", text: "FROM scratch\nCOPY web /web\n")
        let bytes = try await engine.imageSizeBytes(tag)
        let webBytes = try FileManager.default.contentsOfDirectory(atPath: "\(EndToEnd.appsDirectory)/web")
            .map {
                try FileManager.default.attributesOfItem(atPath: "\(EndToEnd.appsDirectory)/web/\($0)")[.size] as! Int
            }
            .reduce(0, +)
        #expect(bytes >= Int64(webBytes) && bytes < Int64(webBytes) + 20_000)
        let shown = try await engine.displayedImageSize(tag)
        #expect(shown.hasSuffix(" kB"), "podman puts a space before the unit: \(shown)")
        let interval = try #require(DisplayedSize.parse(shown))
        #expect((interval.minimum...interval.maximum).contains(bytes))
    }
}
