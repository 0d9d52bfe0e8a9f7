import Foundation
import Testing

@testable import HandsOnKit

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
                    image: "busybox:1.36", name: container, labels: ["org.handson.e2e-api": String(token)],
                    command: ["sh", "-c", "echo out one; echo err one >&2; echo out two; sleep 60"])
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
                let untagged = try await docker(environment, ["commit", source]).stdout.trimmedSpaces
                let tagged = "handson-e2e-api:\(token)"
                let taggedID = try await docker(environment, ["commit", source, tagged]).stdout.trimmedSpaces
                await api.removeContainers([source])
                await api.removeUntaggedImages([untagged, taggedID])
                #expect(!(await cli.imageExists(untagged)), "\(name): the untagged image is removed")
                let taggedStays = await cli.imageExists(tagged)
                let baseStays = await cli.imageExists("busybox:1.36")
                #expect(taggedStays && baseStays, "\(name)")
                await api.removeImages(repository: "handson-e2e-api", tagPrefix: String(token.prefix(4)))
                #expect(!(await cli.imageExists(tagged)), "\(name): removed by its tag's prefix")
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
            }
        }
    }
}
