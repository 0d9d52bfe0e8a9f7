import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnKit
import HandsOnMessages
import HandsOnProcesses

/// `handson doctor`: is this machine ready for the course?
struct DoctorCommand: Command {
    static let coursePort = 9091

    let spec = CommandSpec(
        ["doctor"], summary: "help.doctor.summary",
        options: [.engine, .json],
        discussion: "help.doctor.discussion")

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
        /// How a grade's builds would be limited on this host: the way, the limits held and those not held.
        let buildLimits: BuildLimitEnforcement?
    }

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        var findings: [Finding] = []
        var engineInfo: EngineInfo?
        var lab: [LabImageStatus] = []
        var buildLimits: BuildLimitEnforcement?
        do {
            let engine = try await EngineOption.engine(from: arguments, in: context)
            let info = try await engine.info()
            engineInfo = info
            findings.append(
                Finding(
                    item: "engine", ok: true,
                    detail: say(
                        info.host == nil ? .doctor.engineAnswers : .doctor.engineAnswersAt,
                        [
                            "name": info.name, "client": info.clientVersion, "server": info.version,
                            "driver": info.storageDriver, "host": info.host ?? "",
                        ])))
            findings.append(Finding(item: "image store", ok: true, detail: Self.storeDetail(info.store)))
            findings.append(Finding(item: "builder", ok: true, detail: Self.builderDetail(info.builder)))
            // Informational: a learner's own checks build without limits; `grade` and `batch` refuse where they do not hold.
            let plan = BuildLimitPlan.plan(BuildLimits(), engine: info, host: context.effects.host)
            buildLimits = plan.record(location: nil, unlimitedAllowed: false)
            findings.append(
                Finding(
                    item: "build limits", ok: true,
                    detail: plan.description + (plan.holdsAll ? "" : say(.doctor.limitsRefused))))
            findings.append(
                Finding(
                    item: "disk", ok: true,
                    detail: plan.diskDescription(
                        engine: info, reserveBytes: DiskReserve.defaultBytes, disk: context.effects.disk)))
            lab = await LabPreparer(engine: engine, environment: context.environment).survey()
            for status in lab {
                let detail =
                    status.state == .missing
                    ? say(.doctor.lab.missing)
                    : status.isStandIn ? say(.doctor.lab.standIn) : say(.doctor.lab.present)
                findings.append(Finding(item: status.reference, ok: status.state != .missing, detail: detail))
            }
        } catch let error as UsageError {
            throw error
        } catch {
            findings.append(
                Finding(item: "engine", ok: false, detail: say(.doctor.engineFailed, ["error": "\(error)"])))
        }
        for other in EngineKind.allCases where other.rawValue != engineInfo?.name {
            let engine = ContainerEngine(kind: other, runner: context.runner, environment: context.environment)
            if case .success = await engine.probe() {
                findings.append(
                    Finding(
                        item: "also available", ok: true,
                        detail: say(.doctor.alsoAnswers, ["engine": other.rawValue])))
            }
        }
        let curl = ExecutableLocator.find("curl", environment: context.environment)
        findings.append(
            Finding(
                item: "curl", ok: curl != nil,
                detail: curl.map { say(.doctor.foundAt, ["path": $0]) } ?? say(.doctor.curlMissing))
        )
        let debootstrap = ExecutableLocator.find("debootstrap", environment: ["PATH": "/usr/sbin:/sbin:/usr/bin:/bin"])
        let labComplete = !lab.isEmpty && lab.allSatisfy { $0.state != .missing }
        findings.append(
            Finding(
                item: "debootstrap", ok: debootstrap != nil || labComplete,
                detail: debootstrap != nil
                    ? say(.doctor.debootstrap.found)
                    : labComplete ? say(.doctor.debootstrap.notNeeded) : say(.doctor.debootstrap.missing)))
        let portFree = PortAvailability.isFree(Self.coursePort)
        findings.append(
            Finding(
                item: "port \(Self.coursePort)", ok: portFree,
                detail: portFree ? say(.doctor.port.free) : say(.doctor.port.inUse)))

        let ready = findings.allSatisfy(\.ok)
        if arguments.has(.json) {
            context.io.out(
                try JSONOutput.encode(
                    Report(
                        ready: ready, engine: engineInfo, findings: findings, labImages: lab,
                        buildLimits: buildLimits)))
        } else {
            let style = context.io.outputStyle
            let width = findings.map { Self.label($0.item).terminalWidth }.max() ?? 0
            for finding in findings {
                let mark = finding.ok ? style.green("✓") : style.red("✗")
                let label = Self.label(finding.item)
                context.io.out("\(mark) \(label.padded(toColumns: width))  \(finding.detail)")
            }
            context.io.out(
                ready ? style.green(say(.doctor.ready)) : style.red(say(.doctor.notReady)))
        }
        return ready ? ExitCode.success : ExitCode.failure
    }

    /// What the engine's store means for the sizes a learner sees.
    static func storeDetail(_ store: ImageStore?) -> String {
        switch store {
        case .dockerGraphDriver: return say(.doctor.store.graphDriver)
        case .containerd: return say(.doctor.store.containerd)
        case .podman: return say(.doctor.store.podman)
        case nil: return say(.doctor.store.unknown)
        }
    }

    static func builderDetail(_ builder: ImageBuilder?) -> String {
        switch builder {
        case .buildkit: return say(.doctor.builder.buildkit)
        case .classic: return say(.doctor.builder.classic)
        case .buildah: return say(.doctor.builder.buildah)
        case nil: return say(.doctor.builder.unknown)
        }
    }

    /// A finding's name as the reader sees it; `--json` keeps the stable name (`image store`, `port 9091`).
    static func label(_ item: String) -> String {
        let fixed = [
            "engine", "image store", "builder", "build limits", "disk", "also available", "curl", "debootstrap",
        ]
        if fixed.contains(item) {
            return say(.composed("doctor.item.\(item.replacingOccurrences(of: " ", with: "-"))"))
        }
        if item.hasPrefix("port ") { return say(.doctor.item.port, ["port": String(item.dropFirst(5))]) }
        return item
    }
}
