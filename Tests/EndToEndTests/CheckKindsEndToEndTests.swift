import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

@Suite("Check kinds against a real container", .serialized, .enabled(if: EndToEnd.isEnabled))
struct CheckKindsEndToEndTests {
    @Test func containerHTTPAndCommandOutputChecksOnTheRealEngine() async throws {
        let engine = try await EndToEnd.engine()
        _ = try await EndToEnd.prepareLab(on: engine)
        let pad = EngineScratchpad(engine: engine)
        let tag = try await pad.buildApp(
            "checks", dockerfile: "\(EndToEnd.repositoryRoot)/Chapters/optimize-image/solutions/scratch.Dockerfile")
        let port = try #require(PortAvailability.ephemeralPort())
        let name = pad.containerName("checks")
        _ = try await engine.startContainer(
            image: tag, name: name, ports: [PortMapping(hostPort: port, containerPort: 9090)])
        let labels = ["org.handson.check": "true", "org.handson.test": pad.token]
        let context = CheckContext(
            engine: engine, workingDirectory: EndToEnd.appsDirectory, subjectImage: tag, containerLabels: labels)
        let runner = CheckRunner()

        let running = await runner.run(
            CheckSpec(id: "up", kind: .containerRunning(image: "$IMAGE", name: name, port: port)), in: context)
        #expect(running.passed, "\(running.message)")
        let wrongPort = await runner.run(
            CheckSpec(id: "up", kind: .containerRunning(image: tag, name: nil, port: port + 1)), in: context)
        #expect(!wrongPort.passed)

        let healthy = await runner.run(
            CheckSpec(
                id: "health",
                kind: .http(
                    HTTPExpectation(
                        url: "http://127.0.0.1:\(port)/health", status: 200, jsonField: "status", equals: "Healthy",
                        deadlineSeconds: 15))), in: context)
        #expect(healthy.passed, "\(healthy.message)")
        #expect(healthy.measured == "200 {\"status\":\"Healthy\"}")
        let notFound = await runner.run(
            CheckSpec(
                id: "page",
                kind: .http(
                    HTTPExpectation(
                        url: "http://127.0.0.1:\(port)/missing", status: 200, jsonField: nil, equals: nil,
                        deadlineSeconds: 1))), in: context)
        #expect(!notFound.passed)
        #expect(notFound.message.contains("404"))

        // busybox's sha256sum in a container with the grader's limits and no network.
        let digest = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        let hashed = await runner.run(
            CheckSpec(
                id: "digest",
                kind: .commandOutput(
                    CommandExpectation(
                        image: "busybox", arguments: ["sha256sum"], stdin: "hello", exitCode: 0, equals: nil,
                        contains: digest,
                        matches: "^[0-9a-f]{64}  -$", network: false, hostNetwork: false))), in: context)
        #expect(hashed.passed, "\(hashed.message)")
        let noNetwork = await runner.run(
            CheckSpec(
                id: "net",
                kind: .commandOutput(
                    CommandExpectation(
                        image: "busybox", arguments: ["ip", "-o", "link"], stdin: nil, exitCode: 0, equals: nil,
                        contains: nil,
                        matches: nil, network: false, hostNetwork: false))), in: context)
        #expect(noNetwork.passed && !(noNetwork.measured ?? "").contains("eth0"), "no network: only the loopback link")
        let scratchShell = await runner.run(
            CheckSpec(
                id: "shell",
                kind: .commandOutput(
                    CommandExpectation(
                        image: tag, arguments: ["sh", "-c", "true"], stdin: nil, exitCode: 0, equals: nil,
                        contains: nil, matches: nil,
                        network: false, hostNetwork: false))), in: context)
        #expect(!scratchShell.passed, "scratch has no shell")
        let leftovers = try await engine.execute(["ps", "-a", "-q", "--filter", "label=org.handson.test=\(pad.token)"])
            .stdout
        #expect(leftovers.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "check containers are removed")
    }

    @Test func imageServesStartsTheImageAndSaysWhyItDidNot() async throws {
        let engine = try await EndToEnd.engine()
        _ = try await EndToEnd.prepareLab(on: engine)
        let pad = EngineScratchpad(engine: engine)
        let good = try await pad.buildApp(
            "serves", dockerfile: "\(EndToEnd.repositoryRoot)/Chapters/optimize-image/solutions/scratch.Dockerfile")
        let broken = try await pad.buildApp("serves-cgo", text: EngineScratchpad.cgoBuildThen("scratch"))
        let labels = ["org.handson.check": "true", "org.handson.test": pad.token]
        let context = CheckContext(
            engine: engine, workingDirectory: EndToEnd.appsDirectory, subjectImage: good, containerLabels: labels)
        let spec = CheckSpec(
            id: "serves",
            kind: .imageServes(
                ServeExpectation(
                    image: "$IMAGE", containerPort: 9090, path: "/health",
                    status: 200, jsonField: "status", equals: "Healthy",
                    deadlineSeconds: 15)))
        let served = await CheckRunner().run(spec, in: context)
        #expect(served.passed, "\(served.message)")
        #expect(served.measured == "200 {\"status\":\"Healthy\"}")
        let brokenContext = CheckContext(
            engine: engine, workingDirectory: EndToEnd.appsDirectory, subjectImage: broken, containerLabels: labels)
        let started = Date()
        let failed = await CheckRunner().run(spec, in: brokenContext)
        #expect(!failed.passed)
        #expect(
            failed.reason.map {
                !Set($0.allKeys).isDisjoint(with: [
                    "serveCheck.imageCouldStartedLasterror", "serveCheck.imageStoppedExitCode",
                ])
            } == true,
            "\(failed.message)")
        #expect(Date().timeIntervalSince(started) < 10, "a container that dies is not waited on until the deadline")
        let leftovers = try await engine.execute(["ps", "-a", "-q", "--filter", "label=org.handson.test=\(pad.token)"])
            .stdout
        #expect(leftovers.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }
}
