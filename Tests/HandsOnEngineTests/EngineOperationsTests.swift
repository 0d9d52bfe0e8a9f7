import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnProcesses

/// `ContainerEngine`'s two ways to an operation, each against what Docker 26 answered when it was captured
/// (`Fixtures/engine-api`): the Engine API on a socket the test serves, and the docker CLI played by a fake runner.
/// An operation gives the same answer either way, and the API way starts no docker process.
@Suite("Engine operations through the Engine API and through the CLI")
struct EngineOperationsTests {
    static let daemonID = "7522e1fc-adb0"
    /// `docker info`'s line for a BuildKit engine with this daemon's id (the buildx plugin is run on its own).
    static let infoLine =
        "26.1.5|26.1.5|overlay2|[]|buildx=/usr/libexec/docker/cli-plugins/docker-buildx|cgroupfs|2|[]"
        + "|/var/lib/docker|\(daemonID)"

    static func fixture(_ name: String) throws -> Data { try EngineAPITests.fixture(name) }

    static func json(_ body: Data) -> Data {
        Data("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    }

    static let notFound = Data(
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 29\r\n\r\n{\"message\":\"No such object\"}\n"
            .utf8)

    /// An engine that speaks the API: each request answered by the captured response for its path.
    static func apiEngine() throws -> (ContainerEngine, FakeProcessRunner, ScriptedEngineServer) {
        let responses: [(String, Data)] = [
            ("GET /info ", json(Data(#"{"ID":"\#(daemonID)"}"#.utf8))),
            ("GET /images/busybox:1.36/json ", json(try fixture("image-busybox-overlay2.json"))),
            ("GET /images/json?filters=", json(try fixture("images-busybox-overlay2.json"))),
            ("GET /system/df?type=build-cache ", try fixture("response-build-cache.http")),
            ("GET /containers/handson-serve-1/logs?", try fixture("response-logs.http")),
        ]
        let server = try ScriptedEngineServer { requestLine, connection in
            let response = responses.first { requestLine.hasPrefix($0.0) }?.1 ?? notFound
            ScriptedEngineServer.write(connection, response)
            close(connection)
        }
        let runner = FakeProcessRunner()
        runner.on(["docker", "info"], stdout: infoLine + "\n")
        let engine = ContainerEngine(
            kind: .docker, runner: runner, environment: ["DOCKER_HOST": "unix://\(server.path)"])
        return (engine, runner, server)
    }

    /// The same engine through its CLI only (`HANDSON_ENGINE_API=0`), printing what docker 26 printed.
    static func cliEngine() throws -> (ContainerEngine, FakeProcessRunner) {
        let runner = FakeProcessRunner()
        runner.on(["docker", "info"], stdout: infoLine + "\n")
        let image = try JSONDecoder().decode(InspectedImage.self, from: try fixture("image-busybox-overlay2.json"))
        runner.on(["docker", "image", "inspect", "--format", "{{.Id}}", "busybox:1.36"], stdout: image.id + "\n")
        runner.on(["docker", "image", "inspect"], exit: 1, stderr: "Error: No such image: nothing:here\n")
        runner.on(["docker", "image", "ls", "--format", "{{.Size}}", "busybox:1.36"], stdout: "1.98MB\n")
        runner.on(
            ["/usr/libexec/docker/cli-plugins/docker-buildx", "du", "--verbose"],
            stdout: String(decoding: try fixture("buildx-du-verbose.txt"), as: UTF8.self))
        runner.on(["docker", "logs", "handson-serve-1"], stdout: "out one\nout two\n", stderr: "err one\n")
        let engine = ContainerEngine(kind: .docker, runner: runner, environment: ["HANDSON_ENGINE_API": "0"])
        return (engine, runner)
    }

    /// What the operations answer on `engine`, once its facts are known.
    static func answers(_ engine: ContainerEngine) async throws -> [String] {
        _ = await engine.probe()
        return [
            "exists: \(await engine.imageExists("busybox:1.36"))",
            "missing: \(await engine.imageExists("nothing:here"))",
            "listed: \(try await engine.displayedImageSize("busybox:1.36"))",
            "cache: \((await engine.buildCacheIDs(builder: .buildkit) ?? []).sorted())",
            "logs: \(await engine.containerLogs("handson-serve-1"))",
        ]
    }

    @Test func eachOperationAnswersAlikeThroughTheAPIAndTheCLI() async throws {
        let (api, apiRunner, server) = try Self.apiEngine()
        defer { server.close() }
        let (cli, cliRunner) = try Self.cliEngine()

        let throughAPI = try await Self.answers(api)
        let throughCLI = try await Self.answers(cli)
        #expect(throughAPI == throughCLI)
        #expect(throughAPI.first == "exists: true" && throughAPI[1] == "missing: false")
        #expect(throughAPI[2] == "listed: 1.98MB", "as `docker image ls` writes sizes")
        #expect(throughAPI[3].contains("mdua8npaqri7drkig1xo50ula"), "\(throughAPI[3])")
        #expect(throughAPI[4] == "logs: out one\nout two\nerr one\n")
        #expect(api.unansweredAPIRequests.isEmpty, "\(api.unansweredAPIRequests)")
        #expect(apiRunner.commands == [["docker", "info", "--format", apiRunner.commands.first?[3] ?? ""]])
        #expect(cliRunner.commands.count == 6, "one docker command per operation: \(cliRunner.commands)")
    }

    /// An API request that gets no usable answer is asked of the CLI, which says what the engine says.
    @Test func anAPIRequestWithoutAnAnswerIsAskedOfTheCLI() async throws {
        let (api, runner, server) = try Self.apiEngine()
        defer { server.close() }
        runner.on(["docker", "container", "inspect"], stdout: "false 3\n")
        _ = await api.probe()
        let state = try await api.containerState("handson-gone")
        #expect(state.running == false && state.exitCode == 3)
        #expect(runner.commands.contains { $0.starts(with: ["docker", "container", "inspect"]) })
    }
}
