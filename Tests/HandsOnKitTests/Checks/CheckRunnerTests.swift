import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

@Suite("Each check kind against a fake engine")
struct CheckRunnerTests {
    /// A docker that knows images by name with (bytes of files in their layers, the engine's listed size).
    func engine(images: [String: (Int64, String)], extra: (FakeProcessRunner) -> Void = { _ in }) -> (
        ContainerEngine, FakeProcessRunner
    ) {
        let runner = FakeProcessRunner()
        extra(runner)
        runner.on(
            ["docker", "info"],
            stdout: "28.2.2|26.1.5|overlayfs|[[driver-type io.containerd.snapshotter.v1]]|buildx |cgroupfs\n")
        for (name, (bytes, shown)) in images {
            FakeImageArchive.serve(name, fileBytes: bytes, on: runner)
            runner.on(["docker", "image", "ls", "--format", "{{.Size}}", name], stdout: "\(shown)\n")
        }
        runner.on(["docker", "image", "inspect"], exit: 1, stderr: "Error: No such image")
        return (ContainerEngine(kind: .docker, runner: runner, environment: [:]), runner)
    }

    func context(_ engine: ContainerEngine, directory: String = "/tmp", subject: String? = nil) -> CheckContext {
        CheckContext(engine: engine, workingDirectory: directory, subjectImage: subject)
    }

    @Test func imageExistsSaysHowToBuildWhatIsMissing() async {
        let (engine, _) = engine(images: ["go-image:base": (958_000_000, "958MB")])
        let runner = CheckRunner()
        let present = await runner.run(
            CheckSpec(id: "a", kind: .imageExists(image: "go-image:base")), in: context(engine))
        #expect(
            present == CheckResult(id: "a", passed: true, message: "go-image:base exists (958MB)", measured: "958MB"))
        let missing = await runner.run(
            CheckSpec(id: "b", kind: .imageExists(image: "go-image:scratch")), in: context(engine))
        #expect(!missing.passed)
        #expect(missing.message == "no image go-image:scratch yet: build it (docker image build -t go-image:scratch .)")
    }

    @Test func imageReferencesMatchAcrossEngines() async {
        let (engine, _) = engine(images: ["go-image:base": (958_000_000, "958MB")]) { runner in
            runner.on(
                ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"],
                stdout: "busybox:latest\ngo-image:base\n")
        }
        for written in ["localhost/go-image:base", "docker.io/library/go-image:base", "go-image:base"] {
            let result = await CheckRunner().run(
                CheckSpec(id: "a", kind: .imageExists(image: written)), in: context(engine))
            #expect(result.passed, "\(written): \(result.message)")
        }
        await #expect(
            !CheckRunner().run(
                CheckSpec(id: "a", kind: .imageExists(image: "localhost/go-image:other")), in: context(engine)
            ).passed)
    }

    @Test func tiersSayWhatWasReachedAndWhatTheNextNeeds() async {
        let (engine, _) = engine(images: ["go-image:distroless": (27_123_456, "27.1MB")])
        let result = await CheckRunner().run(
            CheckSpec(id: "t", kind: .imageTiers(image: "$IMAGE", tiers: .diet, passScore: 70)),
            in: context(engine, subject: "go-image:distroless"))
        #expect(
            result
                == CheckResult(
                    id: "t", passed: true, message: "go-image:distroless 27.1MB: 70%; 10MB or less gives 100%",
                    measured: "27.1MB"))
        let stricter = await CheckRunner().run(
            CheckSpec(id: "t", kind: .imageTiers(image: "go-image:distroless", tiers: .diet, passScore: 100)),
            in: context(engine))
        #expect(!stricter.passed)
    }

    @Test func theContainerdStoresLargerListingDoesNotCostATier() async {
        let (engine, _) = engine(images: ["go-image:scratch": (6_730_953, "10.6MB")])
        let result = await CheckRunner().run(
            CheckSpec(id: "t", kind: .imageTiers(image: "go-image:scratch", tiers: .diet, passScore: 100)),
            in: context(engine))
        #expect(
            result
                == CheckResult(
                    id: "t", passed: true,
                    message:
                        "go-image:scratch 6.73MB: 100% (the best tier) (the engine lists 10.6MB: containerd store: "
                        + "compressed content + unpacked snapshots)", measured: "6.73MB"))
    }

    @Test func sizeBoundsAgainstAnotherImage() async {
        let (engine, _) = engine(images: [
            "go-image:base": (958_000_000, "958MB"), "go-image:distroless": (27_100_000, "27.1MB"),
        ])
        let bounds = ImageSizeBounds(
            image: "go-image:distroless", atMostBytes: 30_000_000, atLeastBytes: nil, smallerThan: "go-image:base",
            atMostFractionOf: "go-image:base", fraction: 0.05, basis: .displayed)
        let result = await CheckRunner().run(CheckSpec(id: "s", kind: .imageSize(bounds)), in: context(engine))
        #expect(result.passed)
        #expect(
            result.message
                == "go-image:distroless is 27.1MB: at most 30MB; smaller than go-image:base (958MB); 2.8% of go-image:base, within 5%"
        )
        let tooBig = ImageSizeBounds(
            image: "go-image:base", atMostBytes: 400_000_000, atLeastBytes: nil, smallerThan: nil,
            atMostFractionOf: nil, fraction: nil, basis: .exact)
        let failed = await CheckRunner().run(CheckSpec(id: "s", kind: .imageSize(tooBig)), in: context(engine))
        #expect(
            failed
                == CheckResult(
                    id: "s", passed: false,
                    message: "go-image:base is 958MB: over 400MB. Its layers hold 958MB (most: layer 1, 958MB)",
                    measured: "958MB"), "a size that misses its mark says where the bytes are")
    }

    @Test func podmanFindsTheContainerByItsImagesID() async {
        let runner = FakeProcessRunner()
        runner.on(
            ["podman", "image", "inspect", "--format", "{{.Id}}", "go-image:scratch"], stdout: "3c22e08402e1f0\n")
        runner.on(
            ["podman", "ps", "--filter", "ancestor=3c22e08402e1f0"], stdout: "go-container\t0.0.0.0:9091->9090/tcp\n")
        runner.on(["podman", "ps"], stdout: "")
        let result = await CheckRunner().run(
            CheckSpec(id: "c", kind: .containerRunning(image: "go-image:scratch", name: "go-container", port: 9091)),
            in: context(ContainerEngine(kind: .podman, runner: runner, environment: [:])))
        #expect(result.passed, "podman's ancestor filter does not match a short name, so the check gives it the id")
    }

    @Test func aContainerMustPublishThePort() async {
        let (engine, runner) = engine(images: [:]) { runner in
            runner.on(["docker", "ps"], stdout: "go-container\t0.0.0.0:9091->9090/tcp, :::9091->9090/tcp\n")
        }
        let ok = await CheckRunner().run(
            CheckSpec(id: "c", kind: .containerRunning(image: "go-image:scratch", name: "go-container", port: 9091)),
            in: context(engine))
        #expect(ok.passed)
        #expect(ok.message == "a container named go-container from go-image:scratch is running: go-container")
        #expect(
            runner.commands.last == [
                "docker", "ps", "--filter", "ancestor=go-image:scratch", "--format", "{{.Names}}\t{{.Ports}}",
                "--filter", "name=^go-container$",
            ])
        let wrongPort = await CheckRunner().run(
            CheckSpec(id: "c", kind: .containerRunning(image: "go-image:scratch", name: nil, port: 8080)),
            in: context(engine))
        #expect(!wrongPort.passed)
        #expect(wrongPort.message == "no container from go-image:scratch is running publishing port 8080")
    }

    @Test func httpChecksStatusAndAJSONField() async {
        let bodies = LockedBox(["{\"status\":\"Starting\"}", "{\"status\":\"Healthy\"}"])
        let (engine, runner) = engine(images: [:]) { runner in
            runner.on(["curl"]) { request in
                let output = request.arguments[request.arguments.firstIndex(of: "-o")! + 1]
                let body = bodies.withLock { $0.count > 1 ? $0.removeFirst() : $0[0] }
                try? body.write(toFile: output, atomically: true, encoding: .utf8)
                return (0, "200 0", "")
            }
        }
        // The deadline is far: the answer comes on the second try, whenever the shared test pool gets to it.
        let spec = CheckSpec(
            id: "h",
            kind: .http(
                HTTPExpectation(
                    url: "http://127.0.0.1:9091/health", status: 200, jsonField: "status",
                    equals: "Healthy", deadlineSeconds: 60)))
        let result = await CheckRunner().run(spec, in: context(engine))
        #expect(result.passed)
        #expect(result.measured == "200 {\"status\":\"Healthy\"}")
        #expect(runner.commands.filter { $0.first == "curl" }.count == 2, "retried until healthy")
    }

    @Test func httpReportsNoAnswer() async {
        let (engine, _) = engine(images: [:]) { runner in runner.on(["curl"], exit: 7, stdout: "000 7") }
        let spec = CheckSpec(
            id: "h",
            kind: .http(
                HTTPExpectation(
                    url: "http://127.0.0.1:9/health", status: 200, jsonField: nil,
                    equals: nil, deadlineSeconds: 0.2)))
        let result = await CheckRunner().run(spec, in: context(engine))
        #expect(!result.passed)
        #expect(result.message == "http://127.0.0.1:9/health did not answer 200 within 0 s: no answer (curl exit 7)")
    }

    @Test func commandOutputRunsTheImageWithLimitsAndNoNetwork() async throws {
        let digest = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        let (engine, runner) = engine(images: [:]) { runner in
            runner.on(["docker", "run"], stdout: digest + "\n")
            runner.on(["docker", "rm"], stdout: "")
        }
        let spec = CheckSpec(
            id: "d",
            kind: .commandOutput(
                CommandExpectation(
                    image: "$IMAGE", arguments: [], stdin: "hello", exitCode: 0,
                    equals: digest, contains: nil, matches: "^[0-9a-f]{64}$", network: false, hostNetwork: false)))
        let result = await CheckRunner().run(spec, in: context(engine, subject: "diet:answer"))
        #expect(result.passed)
        let request = try #require(runner.lastRequest(["docker", "run"]))
        #expect(request.arguments.contains("--network") && request.arguments.contains("none"))
        for limit in ["--memory", "--pids-limit", "--cpus", "--cap-drop", "no-new-privileges"] {
            #expect(request.arguments.contains(limit))
        }
        #expect(request.arguments.suffix(1) == ["diet:answer"])
        if case .bytes(let input) = request.standardInput {
            #expect(input == Data("hello".utf8))
        } else {
            Issue.record("no stdin")
        }
    }

    @Test func commandOutputSaysWhatWasWrong() async {
        let (engine, _) = engine(images: [:]) { runner in
            runner.on(["docker", "run"], stdout: "hello\n")
            runner.on(["docker", "rm"], stdout: "")
        }
        let spec = CheckSpec(
            id: "d",
            kind: .commandOutput(
                CommandExpectation(
                    image: "x", arguments: [], stdin: "hello", exitCode: 0,
                    equals: "abc", contains: nil, matches: nil, network: false, hostNetwork: false)))
        #expect(await CheckRunner().run(spec, in: context(engine)).message == "x printed 'hello\\n', expected 'abc'")
    }

    @Test func fileUnchangedComparesWithTheStarter() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-unchanged-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: "\(root)/starter", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(root)/work", withIntermediateDirectories: true)
        try "package main\n".write(toFile: "\(root)/starter/hash.go", atomically: true, encoding: .utf8)
        try "package main\n".write(toFile: "\(root)/work/hash.go", atomically: true, encoding: .utf8)
        let (engine, _) = engine(images: [:])
        let context = CheckContext(
            engine: engine, workingDirectory: "\(root)/work", starterDirectory: "\(root)/starter")
        let spec = CheckSpec(id: "f", kind: .fileUnchanged(path: "hash.go", sha256: nil))
        #expect(await CheckRunner().run(spec, in: context).passed)
        try "package main // edited\n".write(toFile: "\(root)/work/hash.go", atomically: true, encoding: .utf8)
        #expect(await CheckRunner().run(spec, in: context).message == "hash.go was changed (it must stay as given)")
        try FileManager.default.removeItem(atPath: "\(root)/work/hash.go")
        #expect(await CheckRunner().run(spec, in: context).message == "hash.go is missing")
    }

    @Test func dockerfileFactsAreCheckedWithReasons() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("handson-df-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try "FROM golang:latest AS b\nRUN go build -o /s .\nFROM scratch\nCOPY --from=b /s /s\nENTRYPOINT /s\n"
            .write(toFile: "\(root)/Dockerfile", atomically: true, encoding: .utf8)
        let (engine, _) = engine(images: [:])
        let spec = CheckSpec(
            id: "df",
            kind: .dockerfile(
                DockerfileExpectation(
                    path: "Dockerfile", stages: nil, atLeastStages: 2,
                    finalBase: "scratch", pinnedTags: true, execForm: true,
                    cgoDisabledForScratch: true, target: nil, dependenciesFirst: nil, nonRootUser: nil)))
        let result = await CheckRunner().run(spec, in: context(engine, directory: root))
        #expect(!result.passed)
        #expect(
            result.message
                == "Dockerfile: pin each base image to a tag (no tag means latest): golang:latest; line 5: ENTRYPOINT /s is shell form; use the exec (JSON) form, as images without a shell cannot run it; the scratch image's binary is built with cgo on: set CGO_ENABLED=0 so it links statically"
        )
        #expect(result.measured == "2 stages, final base scratch")
    }
}

@Suite("Rules on what an image holds")
struct ImageContentsCheckTests {
    /// A docker whose image `name` is a real archive holding `files` (path and bytes) in one layer.
    func engine(_ name: String, files: [(String, Int64)]) -> ContainerEngine {
        let runner = FakeProcessRunner()
        FakeImageArchive.serve(name, files: files, on: runner)
        runner.on(["docker", "image", "inspect", "--format", "{{json .RepoTags}}"], exit: 1)
        return ContainerEngine(kind: .docker, runner: runner, environment: [:])
    }

    @Test func theGoToolChainInAFinalImageIsNamedWithItsSize() async {
        let engine = engine(
            "go-image:distroless", files: [("usr/lib/go-1.19/bin/go", 12_000_000), ("server-run", 7_000_000)])
        let rules = ImageContentsRules(
            image: "go-image:distroless", absentPaths: ["/usr/lib/go-1.19", "/usr/local/go"], maxWastedBytes: nil)
        let result = await CheckRunner().run(
            CheckSpec(id: "no-toolchain", kind: .imageContents(rules)),
            in: CheckContext(engine: engine, workingDirectory: "/tmp"))
        #expect(
            result
                == CheckResult(
                    id: "no-toolchain", passed: false,
                    message: "go-image:distroless: /usr/lib/go-1.19 is in the image (12MB)", measured: "19MB"))
    }

    @Test func anImageWithoutThemPasses() async {
        let engine = engine("go-image:scratch", files: [("server-run", 7_000_000)])
        let rules = ImageContentsRules(
            image: "go-image:scratch", absentPaths: ["/usr/lib/go-1.19"], maxWastedBytes: 1_000_000)
        let result = await CheckRunner().run(
            CheckSpec(id: "c", kind: .imageContents(rules)), in: CheckContext(engine: engine, workingDirectory: "/tmp"))
        #expect(result.passed)
        #expect(result.message == "go-image:scratch: none of /usr/lib/go-1.19 is in it; 0B wasted, at most 1MB")
    }
}
