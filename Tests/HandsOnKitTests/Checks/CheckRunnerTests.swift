import Foundation
import HandsOnMessages
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
        #expect(present.passed && present.measured == "958MB")
        #expect(
            present.reason == Message(.checkRunner.imageExists, ["image": "go-image:base"]).aside(.literal("958MB")))
        let missing = await runner.run(
            CheckSpec(id: "b", kind: .imageExists(image: "go-image:scratch")), in: context(engine))
        #expect(!missing.passed)
        #expect(missing.reason == Message(.checkRunner.imageImageYetBuild, ["image": "go-image:scratch"]))
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

    @Test func tiersSayWhatWasReachedAndWhatTheNextNeeds() async throws {
        let (engine, _) = engine(images: ["go-image:distroless": (27_123_456, "27.1MB")])
        let result = await CheckRunner().run(
            CheckSpec(id: "t", kind: .imageTiers(image: "$IMAGE", tiers: .diet, passScore: 70)),
            in: context(engine, subject: "go-image:distroless"))
        #expect(result.passed && result.measured == "27.1MB")
        let outcome = try #require(SizeTiers.diet.evaluate(MeasuredSize(exactBytes: 27_123_456, displayed: "27.1MB")))
        #expect(
            result.reason
                == Message(
                    .checkRunner.imageTiers, ["image": "go-image:distroless"], parts: ["outcome": outcome.reason]),
            "\(result.message)")
        #expect(result.reason?.value("score") == "70" && result.reason?.value("decimal") == "10MB")
        let stricter = await CheckRunner().run(
            CheckSpec(id: "t", kind: .imageTiers(image: "go-image:distroless", tiers: .diet, passScore: 100)),
            in: context(engine))
        #expect(!stricter.passed)
    }

    @Test func theContainerdStoresLargerListingDoesNotCostATier() async throws {
        let (engine, _) = engine(images: ["go-image:scratch": (6_730_953, "10.6MB")])
        let result = await CheckRunner().run(
            CheckSpec(id: "t", kind: .imageTiers(image: "go-image:scratch", tiers: .diet, passScore: 100)),
            in: context(engine))
        #expect(result.passed && result.measured == "6.73MB")
        let reason = try #require(result.reason)
        #expect(reason.value("text") == "6.73MB" && reason.value("score") == "100", "\(reason)")
        #expect(reason.allKeys.contains("sizeTiers.bestTier"), "\(reason)")
        #expect(reason.value("listed") == "10.6MB" && reason.allKeys.contains("imageSizeReport.engineListsListedWhy"))
        #expect(reason.allKeys.contains("containerEngine.containerdStoreCompressedContent"), "\(reason)")
    }

    @Test func sizeBoundsAgainstAnotherImage() async throws {
        let (engine, _) = engine(images: [
            "go-image:base": (958_000_000, "958MB"), "go-image:distroless": (27_100_000, "27.1MB"),
        ])
        let bounds = ImageSizeBounds(
            image: "go-image:distroless", atMostBytes: 30_000_000, atLeastBytes: nil, smallerThan: "go-image:base",
            atMostFractionOf: "go-image:base", fraction: 0.05, basis: .displayed)
        let result = await CheckRunner().run(CheckSpec(id: "s", kind: .imageSize(bounds)), in: context(engine))
        #expect(result.passed)
        let facts = [
            Message(.imageSizeCheck.mostDecimal, ["decimal": "30MB"]),
            Message(.imageSizeCheck.smallerThanOtherOthersize, ["other": "go-image:base", "otherSize": "958MB"]),
            Message(
                .imageSizeCheck.percentOtherWithinLimit, ["percent": "2.8%", "other": "go-image:base", "limit": "5%"]),
        ]
        #expect(
            result.reason
                == Message(
                    .imageSizeCheck.imageSizeDetail, ["image": "go-image:distroless", "size": "27.1MB"],
                    parts: ["detail": .list(facts, separator: .list.factSeparator)]), "\(result.message)")
        let tooBig = ImageSizeBounds(
            image: "go-image:base", atMostBytes: 400_000_000, atLeastBytes: nil, smallerThan: nil,
            atMostFractionOf: nil, fraction: nil, basis: .exact)
        let failed = await CheckRunner().run(CheckSpec(id: "s", kind: .imageSize(tooBig)), in: context(engine))
        #expect(!failed.passed && failed.measured == "958MB")
        let reason = try #require(failed.reason)
        #expect(
            reason.key == "imageSizeCheck.imageSizeDetail"
                && reason.values == ["image": "go-image:base", "size": "958MB"])
        #expect(reason.parts?["detail"] == Message(.imageSizeCheck.overDecimal, ["decimal": "400MB"]), "\(reason)")
        // A size that misses its mark says where the bytes are.
        #expect(reason.then?.first?.key == "sizeTiers.explanationSuffix", "\(reason)")
        #expect(reason.contains(.sizeExplanation.layersHoldOwnMost, ["own": "958MB", "largest": "958MB"]), "\(reason)")
        #expect(reason.contains(.sizeExplanation.layerValue, ["value": "1"]), "\(reason)")
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
        let named = Message(
            .checkRunner.containerNamedValueFrom, ["value": "go-container", "image": "go-image:scratch"])
        #expect(
            ok.reason
                == Message(.checkRunner.describedRunningValue, ["value": "go-container"], parts: ["described": named]),
            "\(ok.message)")
        #expect(
            runner.commands.last == [
                "docker", "ps", "--filter", "ancestor=go-image:scratch", "--format", "{{.Names}}\t{{.Ports}}",
                "--filter", "name=^go-container$",
            ])
        let wrongPort = await CheckRunner().run(
            CheckSpec(id: "c", kind: .containerRunning(image: "go-image:scratch", name: nil, port: 8080)),
            in: context(engine))
        #expect(!wrongPort.passed)
        let fromImage = Message(.checkRunner.containerFromImage, ["image": "go-image:scratch"])
        #expect(
            wrongPort.reason
                == Message(.checkRunner.describedNotRunningOnPort, ["port": "8080"], parts: ["described": fromImage]),
            "\(wrongPort.message)")
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
        let noAnswer = Message(.healthProbe.noAnswer, ["exit": "7"])
        #expect(
            result.reason
                == Message(
                    .hTTPCheck.urlDidAnswerWanted, ["url": "http://127.0.0.1:9/health", "seconds": "0"],
                    parts: ["wanted": .literal("200"), "measured": noAnswer]),
            "\(result.message)")
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
        let result = await CheckRunner().run(spec, in: context(engine))
        #expect(
            result.reason
                == Message(
                    .commandOutputCheck.imagePrintedShownExpected, ["image": "x", "shown": "hello\\n", "equals": "abc"]),
            "\(result.message)")
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
        #expect(
            await CheckRunner().run(spec, in: context).reason
                == Message(.checkRunner.pathWasChangedMust, ["path": "hash.go"]))
        try FileManager.default.removeItem(atPath: "\(root)/work/hash.go")
        #expect(
            await CheckRunner().run(spec, in: context).reason == Message(.checkRunner.pathMissing, ["path": "hash.go"]))
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
        let failures = [
            Message(.dockerfileCheck.pinTagInsteadLatest, parts: ["unpinnedBases": .list([.literal("golang:latest")])]),
            Message(
                .dockerfileCheck.lineLineKeywordArguments, ["line": "5", "keyword": "ENTRYPOINT", "arguments": "/s"]),
            Message(.dockerfileCheck.scratchImageSBinary),
        ]
        #expect(
            result.reason == .labelled("Dockerfile", .list(failures, separator: .list.clauseSeparator)),
            "\(result.message)")
        let found = [
            english(.dockerfileCheck.stageCount, count: 2),
            english(.dockerfileCheck.finalBaseFinalbase, ["finalBase": "scratch"]),
        ]
        #expect(result.measured == MessageCatalog.list(found, in: .en))
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
        #expect(!result.passed && result.measured == "19MB")
        #expect(
            result.reason
                == .labelled(
                    "go-image:distroless",
                    Message(.imageContentsCheck.pathInImage, ["path": "/usr/lib/go-1.19", "size": "12MB"])),
            "\(result.message)")
    }

    @Test func anImageWithoutThemPasses() async {
        let engine = engine("go-image:scratch", files: [("server-run", 7_000_000)])
        let rules = ImageContentsRules(
            image: "go-image:scratch", absentPaths: ["/usr/lib/go-1.19"], maxWastedBytes: 1_000_000)
        let result = await CheckRunner().run(
            CheckSpec(id: "c", kind: .imageContents(rules)), in: CheckContext(engine: engine, workingDirectory: "/tmp"))
        #expect(result.passed)
        let facts = [
            Message(.imageContentsCheck.noneOfPathsInImage, parts: ["paths": .list([.literal("/usr/lib/go-1.19")])]),
            Message(.imageContentsCheck.decimalWastedMostDecimal, ["decimal": "0B", "decimal2": "1MB"]),
        ]
        #expect(
            result.reason == .labelled("go-image:scratch", .list(facts, separator: .list.clauseSeparator)),
            "\(result.message)")
    }
}
