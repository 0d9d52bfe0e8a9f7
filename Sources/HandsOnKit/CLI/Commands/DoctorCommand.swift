import Foundation

/// `handson doctor`: is this machine ready for the course?
struct DoctorCommand: Command {
    static let coursePort = 9091

    let spec = CommandSpec(["doctor"], summary: "Check the engine, lab images, curl and the course port.",
                           options: [.engine, .json],
                           discussion: "Exits 1 when something the course needs is missing, and says what to do.")

    struct Finding: Codable {
        let item: String
        let ok: Bool
        let detail: String
    }

    struct Report: Codable {
        let ready: Bool
        let engine: EngineInfo?
        let findings: [Finding]
        let labImages: [LabImageStatus]
    }

    func run(_ arguments: ParsedArguments, in context: CommandContext) throws -> Int32 {
        var findings: [Finding] = []
        var engineInfo: EngineInfo?
        var lab: [LabImageStatus] = []
        do {
            let engine = try EngineOption.engine(from: arguments, in: context)
            let info = try engine.info()
            engineInfo = info
            findings.append(Finding(item: "engine", ok: true,
                                    detail: "\(info.name) answers: client \(info.clientVersion), server \(info.version), storage driver \(info.storageDriver)"))
            lab = LabPreparer(engine: engine, environment: context.environment).survey()
            for status in lab {
                let detail = status.state == .missing ? "missing: run `handson lab prepare`"
                    : status.isStandIn ? "present, local stand-in built from Debian packages" : "present"
                findings.append(Finding(item: status.reference, ok: status.state != .missing, detail: detail))
            }
        } catch let error as UsageError {
            throw error
        } catch {
            findings.append(Finding(item: "engine", ok: false, detail: "\(error)"))
        }
        for other in EngineKind.allCases where other.rawValue != engineInfo?.name {
            let engine = ContainerEngine(kind: other, runner: context.runner)
            if case .success = engine.probe() {
                findings.append(Finding(item: "also available", ok: true, detail: "\(other.rawValue) answers too (--engine \(other.rawValue))"))
            }
        }
        let curl = ExecutableLocator.find("curl", environment: context.environment)
        findings.append(Finding(item: "curl", ok: curl != nil, detail: curl.map { "found at \($0)" } ?? "missing: apt-get install curl"))
        let debootstrap = ExecutableLocator.find("debootstrap", environment: ["PATH": "/usr/sbin:/sbin:/usr/bin:/bin"])
        let labComplete = !lab.isEmpty && lab.allSatisfy { $0.state != .missing }
        findings.append(Finding(item: "debootstrap", ok: debootstrap != nil || labComplete,
                                detail: debootstrap != nil ? "found (stand-in images can be built)"
                                    : labComplete ? "not installed (not needed: every lab image is present)"
                                    : "missing: apt-get install debootstrap (to build stand-in images offline)"))
        let portFree = PortAvailability.isFree(Self.coursePort)
        findings.append(Finding(item: "port \(Self.coursePort)", ok: portFree,
                                detail: portFree ? "free" : "in use: stop what listens there (`docker ps` may show a go-container)"))

        let ready = findings.allSatisfy(\.ok)
        if arguments.has("--json") {
            context.io.out(try JSONOutput.encode(Report(ready: ready, engine: engineInfo, findings: findings, labImages: lab)))
        } else {
            let style = context.io.outputStyle
            let width = findings.map(\.item.count).max() ?? 0
            for finding in findings {
                let mark = finding.ok ? style.green("✓") : style.red("✗")
                context.io.out("\(mark) \(finding.item.padding(toLength: width, withPad: " ", startingAt: 0))  \(finding.detail)")
            }
            context.io.out(ready ? style.green("Ready for the course.") : style.red("Not ready: see the ✗ lines above."))
        }
        return ready ? ExitCode.success : ExitCode.failure
    }
}
