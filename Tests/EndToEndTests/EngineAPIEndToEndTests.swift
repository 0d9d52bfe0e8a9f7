import Foundation
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnProcesses

extension GradingOnTheEngine {
    /// The Engine API spoken over the socket gives what the docker CLI gives, on each Docker store here: the same
    /// engine asked both ways (`HANDSON_ENGINE_API=0` keeps the CLI).
    @Suite("The Engine API against the docker CLI", .serialized)
    struct EngineAPIEndToEndTests {
        /// The default engine (overlay2) and, where it runs, the containerd-store daemon.
        static var settings: [(name: String, environment: [String: String])] {
            var settings = [("overlay2", EndToEnd.environment)]
            let containerd = EngineMatrix.containerdHost
            if FileManager.default.fileExists(atPath: String(containerd.dropFirst("unix://".count))) {
                settings.append(
                    ("containerd store", EndToEnd.environment.merging(["DOCKER_HOST": containerd]) { _, new in new }))
            }
            return settings
        }

        static func pair(_ environment: [String: String]) async throws -> (api: ContainerEngine, cli: ContainerEngine) {
            let api = ContainerEngine(kind: .docker, runner: EndToEnd.runner, environment: environment)
            let cli = ContainerEngine(
                kind: .docker, runner: EndToEnd.runner,
                environment: environment.merging(["HANDSON_ENGINE_API": "0"]) {
                    _, new in new
                })
            for engine in [api, cli] {
                if case .failure(let reason) = await engine.probe() {
                    Issue.record("\(reason)")
                    throw reason
                }
            }
            return (api, cli)
        }

        func docker(_ environment: [String: String], _ arguments: [String]) async throws -> ProcessResult {
            try await EndToEnd.runner.run(ProcessRequest("docker", arguments, environment: environment, timeout: 300))
        }

        @Test func imagesAreDescribedAsTheCLIDescribesThem() async throws {
            for (name, environment) in Self.settings {
                let (api, cli) = try await Self.pair(environment)
                _ = try await EndToEnd.prepareLab(on: api)
                #expect(await api.engineAPI() != nil, "\(name): the API is spoken on the engine's socket")
                #expect(await cli.engineAPI() == nil)
                for image in ["golang:1.19", "busybox:1.36", "docker.io/library/busybox:1.36", "handson-absent:nope"] {
                    #expect(await api.imageExists(image) == cli.imageExists(image), "\(name) \(image)")
                    #expect(await api.resolveImage(image) == cli.resolveImage(image), "\(name) \(image)")
                    #expect(
                        (try? await api.imageSizeBytes(image)) == (try? await cli.imageSizeBytes(image)),
                        "\(name) \(image)")
                    #expect(
                        (try? await api.displayedImageSize(image)) == (try? await cli.displayedImageSize(image)),
                        "\(name) \(image): the listing's size as `docker image ls` writes it")
                    #expect(
                        (try? await api.imageLabels(image)) == (try? await cli.imageLabels(image)), "\(name) \(image)")
                    #expect((try? await api.imageUser(image)) == (try? await cli.imageUser(image)), "\(name) \(image)")
                }
                let fromAPI = try await api.measureImage(
                    "golang:1.19", baseCandidates: ["busybox:1.36", "golang:1.19"])
                let fromCLI = try await cli.measureImage(
                    "golang:1.19", baseCandidates: ["busybox:1.36", "golang:1.19"])
                #expect(fromAPI.sizeBytes == fromCLI.sizeBytes && fromAPI.diffIDs == fromCLI.diffIDs, "\(name)")
                #expect(fromAPI.baseImage == "golang:1.19" && fromCLI.baseImage == "golang:1.19", "\(name)")
                #expect(fromAPI.layers.map(\.instruction) == fromCLI.layers.map(\.instruction), "\(name)")
                await #expect(throws: EngineError.self) { try await api.measureImage("handson-absent:nope") }
                #expect(api.unansweredAPIRequests.isEmpty, "\(name): asked of the CLI: \(api.unansweredAPIRequests)")
            }
        }

        @Test func containersAreReadAndRemovedAsTheCLIDoes() async throws {
            for (name, environment) in Self.settings {
                let (api, cli) = try await Self.pair(environment)
                _ = try await EndToEnd.prepareLab(on: api)
                let token = UUID().uuidString.prefix(8).lowercased()
                let label = "org.handson.e2e-api=\(token)"
                let container = "handson-e2e-api-\(token)"
                _ = try await api.startContainer(
                    image: "busybox:1.36", name: container, ports: [], labels: ["org.handson.e2e-api": String(token)],
                    extraArguments: [], command: ["sh", "-c", "echo out one; echo err one >&2; echo out two; sleep 60"])
                var logs = ""
                for _ in 0..<50 where !(logs.contains("out two") && logs.contains("err one")) {
                    try await Task.sleep(for: .milliseconds(100))
                    logs = await cli.containerLogs(container)
                }
                #expect(logs == "out one\nout two\nerr one\n", "\(name)")
                #expect(await api.containerLogs(container) == logs, "\(name)")
                let state = try await api.containerState(container)
                #expect(state.running, "\(name)")
                #expect(try await cli.containerState(container) == state, "\(name)")
                await api.removeContainers(labelled: label)
                let left = try await docker(environment, ["ps", "-a", "-q", "--filter", "label=\(label)"])
                #expect(left.succeeded && left.stdout.isEmpty, "\(name): \(left.stdout)")
                await api.removeContainers([container])  // gone already: not an error

                // An untagged image goes; a tagged one, and the image it builds on, stay.
                let source = "handson-e2e-api-source-\(token)"
                #expect(try await docker(environment, ["create", "--name", source, "busybox:1.36", "true"]).succeeded)
                // `docker commit` ends its id with a newline: an id that kept it would name no image, and the
                // removal below would pass without removing anything.
                let untagged = try await docker(environment, ["commit", source]).stdout.trimmingCharacters(
                    in: .whitespacesAndNewlines)
                let tagged = "handson-e2e-api:\(token)"
                let taggedID = try await docker(environment, ["commit", source, tagged]).stdout.trimmingCharacters(
                    in: .whitespacesAndNewlines)
                await api.removeContainers([source])
                #expect(await cli.imageExists(untagged), "\(name): the untagged image is there before its removal")
                await api.removeUntaggedImages([untagged, taggedID])
                #expect(!(await cli.imageExists(untagged)), "\(name): the untagged image is removed")
                let taggedStays = await cli.imageExists(tagged)
                let baseStays = await cli.imageExists("busybox:1.36")
                #expect(taggedStays && baseStays, "\(name)")
                await api.removeImages(repository: "handson-e2e-api", tagPrefix: String(token.prefix(4)))
                #expect(!(await cli.imageExists(tagged)), "\(name): removed by its tag's prefix")
                #expect(api.unansweredAPIRequests.isEmpty, "\(name): asked of the CLI: \(api.unansweredAPIRequests)")
            }
        }

        @Test func buildCacheRecordsAreThoseBuildxListsAndOnlyTheNewOnesGo() async throws {
            for (name, environment) in Self.settings {
                let (api, _) = try await Self.pair(environment)
                _ = try await EndToEnd.prepareLab(on: api)
                guard let info = await api.cachedInfo(), info.builder == .buildkit else { continue }
                let context = NSTemporaryDirectory() + "handson-e2e-api-\(UUID().uuidString.prefix(8))"
                try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: context) }
                try "FROM busybox:1.36\nRUN echo \(UUID().uuidString) > /made\n".write(
                    toFile: "\(context)/Dockerfile", atomically: true, encoding: .utf8)
                let before = try #require(await api.buildCacheIDs(builder: .buildkit))
                let tag = "handson-e2e-api-cache:\(UUID().uuidString.prefix(8).lowercased())"
                let build = try await api.build(contextDirectory: context, tag: tag)
                #expect(build.succeeded, "\(name): \(build.stderr)")
                let after = try #require(await api.buildCacheIDs(builder: .buildkit))
                let listed = ContainerEngine.buildCacheIDs(
                    inVerboseListing: try await docker(environment, ["buildx", "du", "--verbose"]).stdout)
                let made = after.subtracting(before)
                #expect(!made.isEmpty && made.isSubset(of: listed), "\(name): the build's records, seen by buildx too")
                await api.removeBuildCache(addedSince: before, builder: .buildkit)
                let remaining = ContainerEngine.buildCacheIDs(
                    inVerboseListing: try await docker(environment, ["buildx", "du", "--verbose"]).stdout)
                #expect(remaining.isDisjoint(with: made), "\(name): left \(remaining.intersection(made))")
                #expect(before.subtracting(remaining).isEmpty, "\(name): records from before are kept")
                await api.removeImages([tag])
                #expect(api.unansweredAPIRequests.isEmpty, "\(name): asked of the CLI: \(api.unansweredAPIRequests)")
            }
        }

        @Test func aContainerRunsToItsEndAsDockerRunRunsIt() async throws {
            for (name, environment) in Self.settings {
                let (api, cli) = try await Self.pair(environment)
                _ = try await EndToEnd.prepareLab(on: api)
                let token = UUID().uuidString.prefix(8).lowercased()
                func request(_ image: String, _ command: [String], network: ContainerRunRequest.Network = .none)
                    -> ContainerRunRequest
                {
                    ContainerRunRequest(
                        image: image, name: "handson-e2e-run-\(token)", command: command,
                        labels: ["org.handson.e2e-api": String(token)], network: network, cpuset: "0")
                }
                /// The run both ways; each container's host configuration as the engine records it while the container is
                /// there (`absent` once the CLI's `--rm` has removed it).
                func both(_ run: ContainerRunRequest, input: String? = nil, timeout: Double = 60) async throws -> (
                    api: ProcessResult, cli: ProcessResult, hosts: [[String: String]]
                ) {
                    var results: [ProcessResult] = []
                    var hosts: [[String: String]] = []
                    for (engine, suffix) in [(api, "api"), (cli, "cli")] {
                        var named = run
                        named.name += "-\(suffix)"
                        results.append(
                            try await engine.runToEnd(
                                named, input: input.map { Data($0.utf8) }, timeout: timeout, outputLimit: 64 * 1024))
                        let inspected = try await docker(
                            environment, ["container", "inspect", "--format", "{{json .HostConfig}}", named.name])
                        let object =
                            (try? JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8))) as? [String: Any]
                        let fields = [
                            "Memory", "MemorySwap", "PidsLimit", "NanoCpus", "CapDrop", "SecurityOpt", "LogConfig",
                            "NetworkMode", "CpusetCpus", "Privileged", "ReadonlyRootfs", "AutoRemove",
                        ]
                        func written(_ value: Any?) -> String {
                            guard let value,
                                let data = try? JSONSerialization.data(
                                    withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
                            else { return "absent" }
                            return String(decoding: data, as: UTF8.self)
                        }
                        hosts.append(Dictionary(uniqueKeysWithValues: fields.map { ($0, written(object?[$0])) }))
                        await engine.removeContainers([named.name])
                    }
                    return (results[0], results[1], hosts)
                }

                let echo = try await both(
                    request("busybox:1.36", ["sh", "-c", "cat; echo err >&2; exit 3"]), input: "hi\n")
                for result in [echo.api, echo.cli] {
                    #expect(result.termination == .exited(3) && !result.timedOut, "\(name): \(result.failureSummary)")
                    #expect(
                        result.stdout == "hi\n" && result.stderr == "err\n",
                        "\(name): \(result.stdout) \(result.stderr)")
                }

                // A large input to a program that prints as it reads, and to one that stops reading: ended alike.
                let large = (0..<20_000).map { "line \($0) of the input\n" }.joined()
                let copied = try await both(request("busybox:1.36", ["cat"]), input: large)
                for result in [copied.api, copied.cli] {
                    #expect(
                        result.termination == .exited(0) && result.standardOutput.totalBytes == large.utf8.count,
                        "\(name)")
                }
                let firstLine = try await both(request("busybox:1.36", ["head", "-n1"]), input: large)
                for result in [firstLine.api, firstLine.cli] {
                    #expect(result.termination == .exited(0) && result.stdout == "line 0 of the input\n", "\(name)")
                }

                // The limits, seen from inside and in the engine's record of each container, are the same.
                let script =
                    "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max "
                    + "/sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max "
                    + "/sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpuset.cpus.effective 2>/dev/null; "
                    + "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; ls /sys/class/net"
                let limits = try await both(request("busybox:1.36", ["sh", "-c", script]))
                #expect(limits.api.stdout == limits.cli.stdout, "\(name): \(limits.api.stdout) | \(limits.cli.stdout)")
                #expect(limits.api.stdout.contains("268435456") && limits.api.stdout.contains("128"), "\(name)")
                #expect(limits.api.stdout.contains("NoNewPrivs:\t1") && !limits.api.stdout.contains("eth0"), "\(name)")
                let bridged = try await both(request("busybox:1.36", ["ls", "/sys/class/net"], network: .standard))
                #expect(bridged.api.stdout == bridged.cli.stdout && bridged.api.stdout.contains("eth0"), "\(name)")

                // Past the memory limit, past the timeout, no such image, no such command: ended alike.
                let hog = try await both(
                    request("busybox:1.36", ["sh", "-c", "head -c 600m /dev/zero | tail > /dev/null"]))
                #expect(hog.api.termination == .exited(137) && hog.cli.termination == .exited(137), "\(name)")
                let slow = try await both(request("busybox:1.36", ["sleep", "30"]), timeout: 2)
                #expect(slow.api.timedOut && slow.cli.timedOut, "\(name)")
                // Still running then (the CLI's `--rm` removes a container only once it has ended): the engine's
                // record of both.
                #expect(slow.hosts[0] == slow.hosts[1], "\(name): \(slow.hosts)")
                #expect(slow.hosts[0]["Memory"] == "268435456", "\(name)")
                let missing = try await both(request("handson-absent:nope", []))
                #expect(missing.api.termination == .exited(125) && missing.cli.termination == .exited(125), "\(name)")
                #expect(ContainerEngine.saysNoSuchImage(missing.api.stderr), "\(name): \(missing.api.stderr)")
                let noCommand = try await both(request("busybox:1.36", ["/no/such/command"]))
                #expect(
                    noCommand.api.termination == .exited(127) && noCommand.cli.termination == .exited(127),
                    "\(name): \(noCommand.api.stderr) | \(noCommand.cli.stderr)")
                let left = try await docker(
                    environment, ["ps", "-a", "-q", "--filter", "label=org.handson.e2e-api=\(token)"])
                #expect(left.stdout.isEmpty, "\(name): containers left")
                #expect(api.unansweredAPIRequests.isEmpty, "\(name): asked of the CLI: \(api.unansweredAPIRequests)")
            }
        }
    }
}
