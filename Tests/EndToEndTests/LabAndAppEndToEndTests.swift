import Foundation
import Testing
@testable import HandsOnKit

@Suite("Lab images and the sample app on a real Docker engine", .serialized, .enabled(if: EndToEnd.isEnabled))
struct LabAndAppEndToEndTests {
    @Test func labPrepareMakesEveryBaseImageAndLabelsStandIns() throws {
        let engine = try EndToEnd.engine()
        let statuses = try EndToEnd.prepareLab(on: engine)
        #expect(statuses.map(\.reference) == LabImage.catalog.map(\.reference))
        for status in statuses {
            #expect(status.state != .failed && status.state != .missing, "\(status.reference): \(status.message ?? "")")
        }
        let preparer = LabPreparer(engine: engine, environment: EndToEnd.environment)
        for status in preparer.survey() where status.isStandIn {
            let labels = try engine.imageLabels(ImageReference(status.reference).qualified)
            #expect(labels[StandInLabel.key] == StandInLabel.value)
            #expect(labels[StandInLabel.forKey] == status.reference)
        }
    }

    /// Builds the busybox recipe under a private name (a shared image is never removed while other tests use it),
    /// then prepares again: the second run finds it and changes nothing.
    @Test func aMissingStandInIsBuiltAndASecondRunChangesNothing() throws {
        let engine = try EndToEnd.engine()
        _ = try EndToEnd.prepareLab(on: engine)
        let pad = EngineScratchpad(engine: engine)
        let reference = pad.imageTag("busybox-rebuilt")
        let image = LabImage(reference, recipe: .busybox)
        var preparer = LabPreparer(engine: engine, environment: EndToEnd.environment)
        preparer.allowPull = false
        let io = ConsoleIO(outputIsTerminal: false, errorIsTerminal: false, environment: [:], writeOutput: { _ in }, writeError: { _ in })
        let built = try preparer.prepare([image], progress: ProgressReporter(io: io))
        #expect(built.first?.state == .builtStandIn, "\(built.first?.message ?? "")")
        #expect(try engine.imageLabels(reference)[StandInLabel.forKey] == reference)
        let shell = try engine.execute(["run", "--rm", reference, "sh", "-c", "echo rebuilt"])
        #expect(shell.stdout == "rebuilt\n")
        let again = try preparer.prepare([image], progress: ProgressReporter(io: io))
        #expect(again.first?.state == .presentStandIn)
    }

    @Test func parallelPreparersWaitForEachOtherAndBuildOnce() throws {
        let engine = try EndToEnd.engine()
        _ = try EndToEnd.prepareLab(on: engine)
        let pad = EngineScratchpad(engine: engine)
        let image = LabImage(pad.imageTag("busybox-parallel"), recipe: .busybox)
        var offline = LabPreparer(engine: engine, environment: EndToEnd.environment)
        offline.allowPull = false
        let preparer = offline
        let io = ConsoleIO(outputIsTerminal: false, errorIsTerminal: false, environment: [:], writeOutput: { _ in }, writeError: { _ in })
        let states = LockedBox<[LabImageState]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let state = (try? preparer.prepare([image], progress: ProgressReporter(io: io)))?.first?.state ?? .failed
            states.withLock { $0.append(state) }
        }
        #expect(states.withLock { $0.sorted { $0.rawValue < $1.rawValue } } == [.builtStandIn, .presentStandIn])
    }

    @Test func standInsBehaveLikeTheImagesTheyStandFor() throws {
        let engine = try EndToEnd.engine()
        _ = try EndToEnd.prepareLab(on: engine)
        let shell = try engine.execute(["run", "--rm", "busybox", "sh", "-c", "echo from-busybox; id -u"])
        #expect(shell.stdout == "from-busybox\n0\n")
        let noShell = try engine.execute(["run", "--rm", "gcr.io/distroless/static-debian12", "sh", "-c", "true"])
        #expect(!noShell.succeeded, "distroless has no shell")
        let user = try engine.execute(["image", "inspect", "--format", "{{.Config.User}}", "gcr.io/distroless/static-debian12:nonroot"])
        #expect(user.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "65532:65532")
        let go = try engine.execute(["run", "--rm", "golang:1.19", "go", "version"])
        #expect(go.stdout.hasPrefix("go version go1.19"))
        let env = try engine.execute(["run", "--rm", "golang:1.19", "sh", "-c", "echo $GOPATH; pwd; for t in gcc make git pkg-config; do command -v $t; done"])
        #expect(env.stdout.hasPrefix("/go\n/go\n"))
        #expect(env.stdout.hasSuffix("/usr/bin/gcc\n/usr/bin/make\n/usr/bin/git\n/usr/bin/pkg-config\n"))
    }

    @Test func theSingleStageAppImageAnswersHealthy() throws {
        let engine = try EndToEnd.engine()
        _ = try EndToEnd.prepareLab(on: engine)
        let pad = EngineScratchpad(engine: engine)
        let tag = try pad.buildApp("base")
        let observation = try runAndProbe(tag, pad: pad)
        #expect(observation.isHealthy)
        #expect(observation.httpStatus == 200)
        #expect(observation.body == "{\"status\":\"Healthy\"}\n")
        #expect(try engine.imageSizeBytes(tag) > 300_000_000, "the single-stage image carries the whole tool chain")
    }

    @Test func aScratchImageWithCgoOffAnswersHealthy() throws {
        let engine = try EndToEnd.engine()
        _ = try EndToEnd.prepareLab(on: engine)
        let pad = EngineScratchpad(engine: engine)
        let tag = try pad.buildApp("scratch", dockerfile: "\(EndToEnd.repositoryRoot)/Chapters/optimize-image/solutions/scratch.Dockerfile")
        #expect(try runAndProbe(tag, pad: pad).isHealthy)
        let exact = try engine.imageSizeBytes(tag)
        #expect(exact < 15_000_000)
        let shown = try #require(DisplayedSize.parse(try engine.displayedImageSize(tag)))
        #expect((shown.minimum...shown.maximum).contains(exact), "the listing's size brackets image inspect's bytes")
    }

    @Test func theSameScratchBuildWithCgoOnDoesNotStart() throws {
        let engine = try EndToEnd.engine()
        _ = try EndToEnd.prepareLab(on: engine)
        let pad = EngineScratchpad(engine: engine)
        let tag = try pad.buildApp("scratch-cgo", text: EngineScratchpad.cgoBuildThen("scratch"))
        let name = pad.containerName("cgo")
        let started = try? engine.startContainer(image: tag, name: name, ports: [PortMapping(hostPort: PortAvailability.ephemeralPort()!, containerPort: 9090)])
        // Depending on the engine the start itself fails, or the container exits at once: either way it never serves.
        if started != nil {
            Thread.sleep(forTimeInterval: 1)
            let state = try engine.containerState(name)
            #expect(!state.running)
            #expect(state.exitCode != 0)
        }
        let inspect = try engine.execute(["run", "--rm", tag])
        #expect(!inspect.succeeded)
        #expect((inspect.stderr + inspect.stdout).contains("no such file or directory"),
                "the dynamic binary finds no loader in scratch")
    }

    @Test func aMultiStageImageOnTheDistrolessBaseStandInAnswersHealthy() throws {
        let engine = try EndToEnd.engine()
        _ = try EndToEnd.prepareLab(on: engine)
        let pad = EngineScratchpad(engine: engine)
        let tag = try pad.buildApp("distroless", text: EngineScratchpad.cgoBuildThen("gcr.io/distroless/base-debian12"))
        #expect(try runAndProbe(tag, pad: pad).isHealthy, "a cgo binary runs on distroless base: glibc is there")
    }

    private func runAndProbe(_ tag: String, pad: EngineScratchpad) throws -> HealthObservation {
        let port = try #require(PortAvailability.ephemeralPort())
        _ = try pad.engine.startContainer(image: tag, name: pad.containerName("run"),
                                          ports: [PortMapping(hostPort: port, containerPort: 9090)])
        return try HealthProbe(runner: EndToEnd.runner).waitUntilHealthy(url: "http://127.0.0.1:\(port)/health", deadlineSeconds: 20)
    }
}

@Suite("Podman", .enabled(if: EndToEnd.isEnabled))
struct PodmanEndToEndTests {
    @Test func podmanBuildsAnImageAndReportsItsSize() throws {
        let engine = try EndToEnd.engine(.podman)
        let pad = EngineScratchpad(engine: engine)
        let tag = try pad.buildApp("podman", text: "FROM scratch\nCOPY web /web\n")
        let bytes = try engine.imageSizeBytes(tag)
        let webBytes = try FileManager.default.contentsOfDirectory(atPath: "\(EndToEnd.appsDirectory)/web")
            .map { try FileManager.default.attributesOfItem(atPath: "\(EndToEnd.appsDirectory)/web/\($0)")[.size] as! Int }
            .reduce(0, +)
        #expect(bytes >= Int64(webBytes) && bytes < Int64(webBytes) + 20_000)
        let shown = try engine.displayedImageSize(tag)
        #expect(shown.hasSuffix(" kB"), "podman puts a space before the unit: \(shown)")
        let interval = try #require(DisplayedSize.parse(shown))
        #expect((interval.minimum...interval.maximum).contains(bytes))
    }
}
