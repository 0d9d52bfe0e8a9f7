import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnKit
import HandsOnMessages
import HandsOnProcesses

/// `handson demo`: the main chapter's arc in one go, on the real engine: the single-stage image, a scratch
/// image, the scratch container answering /health on the course port, both sizes side by side; then clean up.
struct DemoCommand: Command {
    let spec = CommandSpec(
        ["demo"],
        summary: "help.demo.summary",
        options: [
            .engine, .json,
            OptionSpec(.keep, help: "help.demo.option.keep"),
            OptionSpec(.port, value: "port", help: "help.demo.option.port"),
        ])

    /// What `demo --json` prints: the images, and the app's answer to `/health`.
    struct Outcome: Codable {
        let engine: EngineInfo
        let images: [Measurement]
        let healthStatus: Int
        let healthBody: String
        let healthy: Bool
        let secondsToHealthy: Double
    }

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let port = try arguments.positiveInteger(.port, default: DoctorCommand.coursePort)
        let layout = try ProjectLayout.require(in: context)
        let engine = try await EngineOption.engine(from: arguments, in: context)
        let io = context.io
        let progress = ProgressReporter(io: io)
        let info = try await engine.info()
        progress.step("Engine: \(info.name) \(info.version) (\(info.storageDriver))")

        let needed = LabImage.catalog.filter { $0.reference == "golang:1.19" }
        let lab = try await LabPreparer(engine: engine, environment: context.environment).prepare(
            needed, progress: progress)
        if let failed = lab.first(where: { $0.state == .failed }) {
            throw CommandFailure(
                say(.cli.demo.available, ["reference": "\(failed.reference)", "value": "\(failed.message ?? "")"]))
        }

        let containerName = "go-container"
        let images = ["go-image:base", "go-image:scratch"]
        let keep = arguments.has(.keep)
        var buildOutputs: [String] = []
        return try await withCleanUp {
            try await demonstrate(
                port: port, layout: layout, engine: engine, info: info, containerName: containerName,
                images: images, buildOutputs: &buildOutputs, arguments: arguments, context: context)
        } cleanUp: {
            await engine.removeContainers([containerName])
            if !keep { await engine.removeImages(images) }
            for output in buildOutputs { await engine.removeUntaggedStepImages(ofBuildOutput: output) }
        }
    }

    private func demonstrate(
        port: Int, layout: ProjectLayout, engine: ContainerEngine, info: EngineInfo, containerName: String,
        images: [String], buildOutputs: inout [String], arguments: ParsedArguments,
        context: CommandContext
    ) async throws -> Int32 {
        let io = context.io
        let progress = ProgressReporter(io: io)
        guard PortAvailability.isFree(port) else {
            throw CommandFailure(say(.cli.demo.portUseStopWhat, ["port": "\(port)"]))
        }

        let echo: @Sendable (OutputStreamKind, Data) -> Void = { _, data in
            io.err(io.errorStyle.dim(String(decoding: data, as: UTF8.self)), terminator: "")
        }
        let scratchDockerfile = "\(layout.chaptersDirectory)/optimize-image/solutions/scratch.Dockerfile"
        for (tag, dockerfile) in [
            ("go-image:base", "\(layout.appsDirectory)/Dockerfile"), ("go-image:scratch", scratchDockerfile),
        ] {
            progress.step("\n$ \(engine.kind.rawValue) image build -t \(tag) -f \(dockerfile) apps")
            let build = try await engine.build(
                contextDirectory: layout.appsDirectory, dockerfile: dockerfile, tag: tag, labels: [:],
                extraArguments: [],
                timeout: 600, onOutput: echo)
            buildOutputs.append(build.stdout)
            guard build.succeeded else { throw EngineError.commandFailed(build) }
        }

        progress.step(
            "\n$ \(engine.kind.rawValue) container run --name \(containerName) -d -p \(port):9090 go-image:scratch")
        await engine.removeContainers([containerName])
        _ = try await engine.startContainer(
            image: "go-image:scratch", name: containerName,
            ports: [PortMapping(hostPort: port, containerPort: 9090)])
        let url = "http://localhost:\(port)/health"
        progress.step("$ curl \(url)")
        let health = try await HealthProbe(runner: context.runner).waitUntilHealthy(url: url, deadlineSeconds: 20)
        progress.step(health.body.trimmingCharacters(in: .whitespacesAndNewlines))

        var measured: [Measurement] = []
        for image in images {
            let report = try await engine.sizeReport(image, store: info.store)
            measured.append(
                Measurement(
                    image: image, sizeBytes: report.sizeBytes, size: report.size, engineListed: report.engineListed))
        }
        let outcome = Outcome(
            engine: info, images: measured, healthStatus: health.httpStatus, healthBody: health.body,
            healthy: health.isHealthy, secondsToHealthy: health.elapsedSeconds)
        if arguments.has(.json) {
            io.out(try JSONOutput.encode(outcome))
        } else {
            let style = io.outputStyle
            io.out("")
            io.out(style.bold("IMAGE              SIZE      BYTES       ENGINE LISTS"))
            for item in measured {
                io.out(
                    "\(item.image.padding(toLength: 18, withPad: " ", startingAt: 0)) \(item.size.padding(toLength: 9, withPad: " ", startingAt: 0)) "
                        + "\(String(item.sizeBytes).padding(toLength: 11, withPad: " ", startingAt: 0)) \(item.engineListed ?? "?")"
                )
            }
            if let store = info.store, store != .dockerGraphDriver {
                io.out(
                    style.dim(
                        "SIZE is HandsOn's measurement of the layers; the engine's column counts \(store.listingMeaning)."
                    ))
            }
            let ratio = Double(measured[1].sizeBytes) / Double(max(measured[0].sizeBytes, 1)) * 100
            io.out(say(.cli.demo.scratchShare, ["percent": String(format: "%.1f", ratio)]))
            io.out(
                health.isHealthy
                    ? style.green(
                        say(
                            .cli.demo.healthy,
                            [
                                "status": "\(health.httpStatus)",
                                "seconds": String(format: "%.2f", health.elapsedSeconds),
                            ]))
                    : style.red(
                        say(
                            .cli.demo.notHealthy,
                            ["status": "\(health.httpStatus)", "exit": "\(health.curlExitCode)"])))
        }
        return health.isHealthy ? ExitCode.success : ExitCode.failure
    }
}

extension DemoCommand {
    /// One image of the demo, as HandsOn measured it and as the engine lists it.
    struct Measurement: Codable {
        let image: String
        let sizeBytes: Int64
        let size: String
        let engineListed: String?
    }
}
