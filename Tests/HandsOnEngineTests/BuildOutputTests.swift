import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnProcesses

@Suite("What a build says it made")
struct BuildOutputTests {
    @Test func dockersClassicBuilderListsEveryStepImageButNotItsContainers() async throws {
        let ids = ContainerEngine.stepImageIDs(inBuildOutput: try BuildFixtures.text("docker-classic-multistage.txt"))
        #expect(
            ids == [
                "6df9f6fdeeaf", "b07d47d7e9a7", "5446a1b3f606", "6e6082e03695", "044b70b108ca", "aa9ed5676f57",
                "2c78e6178352", "000fad0dd787",
            ])
    }

    /// A docker build runs without attestations or Git facts, its client's Go runtime on one thread with garbage
    /// collected past 128 MiB only; what the user set stays; Podman's builds get the environment as it is.
    @Test func aDockerBuildsClientIsSetUpForAShortQuietLife() async throws {
        let runner = FakeProcessRunner()
        runner.on(["docker", "build"])
        _ = try await ContainerEngine(kind: .docker, runner: runner, environment: ["GOGC": "50", "PATH": "/bin"])
            .build(contextDirectory: "/answer", tag: "t")
        let environment = try #require(runner.requests.last?.environment)
        #expect(environment["GOGC"] == "50" && environment["PATH"] == "/bin")
        #expect(environment["GOMAXPROCS"] == "1" && environment["GOMEMLIMIT"] == "128MiB")
        #expect(environment["BUILDX_NO_DEFAULT_ATTESTATIONS"] == "1" && environment["BUILDX_GIT_INFO"] == "0")

        let podman = FakeProcessRunner()
        podman.on(["podman", "build"])
        _ = try await ContainerEngine(kind: .podman, runner: podman, environment: ["PATH": "/bin"])
            .build(contextDirectory: "/answer", tag: "t")
        #expect(podman.requests.last?.environment == ["PATH": "/bin"])
    }

    @Test func podmansShortIDsAreRead() async throws {
        #expect(
            ContainerEngine.stepImageIDs(inBuildOutput: try BuildFixtures.text("podman-build.txt")) == ["3c22e08402e"])
    }

    @Test func onlyUntaggedStepImagesAreRemoved() async {
        let runner = FakeProcessRunner()
        runner.on(["docker", "image", "inspect"], stdout: "sha256:aaa 1\nsha256:bbb 0\nsha256:ccc 0\n")
        runner.on(["docker", "image", "rm"])
        await ContainerEngine(kind: .docker, runner: runner, environment: [:])
            .removeUntaggedStepImages(
                ofBuildOutput:
                    " ---> aaaaaaaaaaaa\n ---> Running in 0123456789ab\n ---> bbbbbbbbbbbb\n ---> cccccccccccc\n")
        #expect(
            runner.commands.filter { $0.starts(with: ["docker", "image", "rm"]) } == [
                ["docker", "image", "rm", "sha256:ccc", "sha256:bbb"]
            ],
            "newest first, in one call")
        #expect(runner.lastRequest(["docker", "image", "rm"])?.cancellable == false, "clean-up goes on after Ctrl-C")
        #expect(
            runner.commands.first == [
                "docker", "image", "inspect", "--format", "{{.Id}} {{len .RepoTags}}",
                "aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc",
            ])
    }

    @Test func anImageRefusedForItsChildIsTriedAgainOnceTheChildHasGone() async {
        let runner = FakeProcessRunner()
        let passes = LockedBox(0)
        runner.on(["docker", "image", "inspect"]) { _ in
            passes.withLock { $0 += 1 }
            return passes.withLock { $0 } == 1
                ? (0, "sha256:bbb 0\nsha256:ccc 0\n", "") : (1, "sha256:bbb 0\n", "Error: No such image: ccc")
        }
        runner.on(["docker", "image", "rm"]) { request in
            request.arguments.count == 4
                ? (1, "Deleted: sha256:ccc\n", "conflict: image bbb has dependent child images")
                : (0, "Deleted: sha256:bbb\n", "")
        }
        await ContainerEngine(kind: .docker, runner: runner, environment: [:]).removeUntaggedImages([
            "bbbbbbbbbbbb", "cccccccccccc",
        ])
        #expect(
            runner.commands.filter { $0.starts(with: ["docker", "image", "rm"]) } == [
                ["docker", "image", "rm", "sha256:ccc", "sha256:bbb"], ["docker", "image", "rm", "sha256:bbb"],
            ])
    }
}

@Suite("Why a build failed, as each builder says it")
struct BuildFailureSummaryTests {
    @Test(arguments: [
        (
            "buildkit",
            #"ERROR: failed to solve: process "/bin/sh -c echo compiling && exit 3" did not complete successfully: exit code: 3"#
        ),
        ("classic", "The command '/bin/sh -c echo compiling && exit 3' returned a non-zero code: 3"),
        ("podman", #"Error: building at STEP "RUN echo compiling && exit 3": while running runtime: exit status 3"#),
    ])
    func theBuildersOwnReasonLineIsKept(builder: String, reason: String) throws {
        let result = ProcessResult(
            command: ["docker", "build"], termination: .exited(1),
            standardOutput: .of(try BuildFixtures.text("\(builder)-failed.stdout")),
            standardError: .of(try BuildFixtures.text("\(builder)-failed.stderr")), durationSeconds: 1)
        #expect(ContainerEngine.buildFailureSummary(result) == reason)
    }

    @Test func withoutAReasonLineTheLastLinesAreKept() async {
        let result = ProcessResult(
            command: ["docker", "build"], termination: .exited(1), standardOutput: .of("one\ntwo\n"),
            standardError: .of("cannot connect\n"), durationSeconds: 1)
        #expect(ContainerEngine.buildFailureSummary(result) == "cannot connect\none\ntwo")
    }

    /// A graded image is thrown away: Docker's builds make no default attestations and no Git facts (buildx reads
    /// the variables; a builder that does not know them ignores them, where a flag would fail the build), and
    /// whatever the user set stays.
    @Test(arguments: [("1", nil as String?), ("0", nil), ("1", "0")])
    func aDockerBuildMakesNoDefaultAttestation(buildkit: String, userSetting: String?) async throws {
        let runner = FakeProcessRunner()
        runner.on(
            ["docker", "info"],
            stdout: "26.1.5|26.1.5|overlay2|[[Backing Filesystem extfs]]|buildx=/nonexistent/docker-buildx |systemd|2|"
                + "[name=seccomp]|/var/lib/docker\n")
        runner.on(["docker", "build"])
        var environment = ["DOCKER_BUILDKIT": buildkit]
        environment["BUILDX_NO_DEFAULT_ATTESTATIONS"] = userSetting
        let engine = ContainerEngine(kind: .docker, runner: runner, environment: environment)
        #expect(await engine.cachedInfo()?.builder == (buildkit == "1" ? .buildkit : .classic))
        _ = try await engine.build(contextDirectory: "/answer", tag: "graded:1")
        let build = try #require(runner.lastRequest(["docker", "build"]))
        #expect(build.environment?["BUILDX_NO_DEFAULT_ATTESTATIONS"] == (userSetting ?? "1"))
        #expect(build.environment?["BUILDX_GIT_INFO"] == "0")
        #expect(!build.arguments.contains { $0.hasPrefix("--provenance") }, "no flag an older builder would refuse")
        #expect(build.arguments.last == "/answer")
    }
}
