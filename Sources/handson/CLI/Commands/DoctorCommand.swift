import Foundation
import HandsOnKit

/// `handson doctor`: is this machine ready for the course?
struct DoctorCommand: Command {
    static let coursePort = 9091

    let spec = CommandSpec(
        ["doctor"], summary: "Check the engine, lab images, curl and the course port.",
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
                    detail:
                        "\(info.name) answers: client \(info.clientVersion), server \(info.version), storage driver \(info.storageDriver)"
                        + (info.host.map { " at \($0)" } ?? "")))
            findings.append(Finding(item: "image store", ok: true, detail: Self.storeDetail(info.store)))
            findings.append(Finding(item: "builder", ok: true, detail: Self.builderDetail(info.builder)))
            // Informational: a learner's own checks build without limits; `grade` and `batch` refuse where they do not hold.
            let plan = BuildLimitPlan.plan(BuildLimits(), engine: info, host: context.effects.host)
            buildLimits = plan.record(location: nil, unlimitedAllowed: false)
            findings.append(
                Finding(
                    item: "build limits", ok: true,
                    detail: plan.description
                        + (plan.holdsAll
                            ? ""
                            : "; `grade` and `batch` refuse untrusted answers here "
                                + "unless --unlimited-builds")))
            lab = await LabPreparer(engine: engine, environment: context.environment).survey()
            for status in lab {
                let detail =
                    status.state == .missing
                    ? "missing: run `handson lab prepare`"
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
            if case .success = await engine.probe() {
                findings.append(
                    Finding(
                        item: "also available", ok: true,
                        detail: "\(other.rawValue) answers too (--engine \(other.rawValue))"))
            }
        }
        let curl = ExecutableLocator.find("curl", environment: context.environment)
        findings.append(
            Finding(
                item: "curl", ok: curl != nil, detail: curl.map { "found at \($0)" } ?? "missing: apt-get install curl")
        )
        let debootstrap = ExecutableLocator.find("debootstrap", environment: ["PATH": "/usr/sbin:/sbin:/usr/bin:/bin"])
        let labComplete = !lab.isEmpty && lab.allSatisfy { $0.state != .missing }
        findings.append(
            Finding(
                item: "debootstrap", ok: debootstrap != nil || labComplete,
                detail: debootstrap != nil
                    ? "found (stand-in images can be built)"
                    : labComplete
                        ? "not installed (not needed: every lab image is present)"
                        : "missing: apt-get install debootstrap (to build stand-in images offline)"))
        let portFree = PortAvailability.isFree(Self.coursePort)
        findings.append(
            Finding(
                item: "port \(Self.coursePort)", ok: portFree,
                detail: portFree ? "free" : "in use: stop what listens there (`docker ps` may show a go-container)"))

        let ready = findings.allSatisfy(\.ok)
        if arguments.has(.json) {
            context.io.out(
                try JSONOutput.encode(
                    Report(
                        ready: ready, engine: engineInfo, findings: findings, labImages: lab,
                        buildLimits: buildLimits)))
        } else {
            let style = context.io.outputStyle
            let width = findings.map(\.item.count).max() ?? 0
            for finding in findings {
                let mark = finding.ok ? style.green("✓") : style.red("✗")
                context.io.out(
                    "\(mark) \(finding.item.padding(toLength: width, withPad: " ", startingAt: 0))  \(finding.detail)")
            }
            context.io.out(
                ready ? style.green("Ready for the course.") : style.red("Not ready: see the ✗ lines above."))
        }
        return ready ? ExitCode.success : ExitCode.failure
    }

    /// What the engine's store means for the sizes a learner sees.
    static func storeDetail(_ store: ImageStore?) -> String {
        switch store {
        case .dockerGraphDriver:
            return
                "Docker's graph driver store: `docker image ls` SIZE is the file bytes per layer, the figure HandsOn measures and scores"
        case .containerd:
            return
                "Docker's containerd store: `docker image ls` lists compressed content + unpacked snapshots (Docker 29: DISK USAGE "
                + "and CONTENT SIZE), larger than the figure HandsOn measures from the layers and scores"
        case .podman:
            return
                "Podman's store: `podman images` counts the uncompressed layer archives (headers and padding too), a little "
                + "more than the figure HandsOn measures from the layers and scores"
        case nil:
            return "unknown: HandsOn scores its own measurement of the layers, whatever the engine lists"
        }
    }

    static func builderDetail(_ builder: ImageBuilder?) -> String {
        switch builder {
        case .buildkit:
            return "BuildKit (docker buildx): progress on stderr, a build cache HandsOn cleans after its grades"
        case .classic: return "the classic builder (DOCKER_BUILDKIT=0, or no buildx plugin): deprecated since Docker 23"
        case .buildah: return "Podman's builder (buildah)"
        case nil: return "unknown"
        }
    }
}
