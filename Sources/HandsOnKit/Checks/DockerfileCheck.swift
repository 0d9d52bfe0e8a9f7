import Foundation

/// Facts read from the working folder's Dockerfile: stages, final base, pinned tags, exec form, cgo before scratch.
struct DockerfileCheck {
    let expectation: DockerfileExpectation

    func run(_ id: String, _ context: CheckContext) -> CheckResult {
        let path = "\(context.workingDirectory)/\(expectation.path)"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return CheckResult(id: id, passed: false, message: "\(expectation.path) is missing")
        }
        var facts: DockerfileFacts
        do { facts = try DockerfileFacts(text: text) } catch {
            return CheckResult(id: id, passed: false, message: "\(expectation.path) cannot be read: \(error)")
        }
        if let target = expectation.target {
            guard let targeted = facts.forTarget(target) else {
                return CheckResult(id: id, passed: false, message: "\(expectation.path) has no stage named \(target) (FROM ... AS \(target))")
            }
            facts = targeted
        }
        var failures: [String] = []
        var found: [String] = ["\(facts.stageCount) stage\(facts.stageCount == 1 ? "" : "s")", "final base \(facts.finalBase)"]
        if let stages = expectation.stages, facts.stageCount != stages { failures.append("expected \(stages) stages, found \(facts.stageCount)") }
        if let least = expectation.atLeastStages, facts.stageCount < least {
            failures.append("expected a multi-stage build (\(least) or more stages), found \(facts.stageCount)")
        }
        if let base = expectation.finalBase, ImageReference(facts.finalBase) != ImageReference(base), facts.finalBase != base {
            failures.append("the final stage should be FROM \(base), not \(facts.finalBase)")
        }
        if expectation.pinnedTags == true, !facts.unpinnedBases.isEmpty {
            failures.append("pin a tag instead of latest: \(facts.unpinnedBases.joined(separator: ", "))")
        }
        if expectation.execForm == true {
            for instruction in [facts.entrypoint, facts.command].compactMap({ $0 }) where !instruction.isExecForm {
                failures.append("line \(instruction.line): \(instruction.keyword) \(instruction.arguments) is shell form; "
                                + "use the exec (JSON) form, as images without a shell cannot run it")
            }
        }
        if expectation.cgoDisabledForScratch == true {
            switch facts.cgoDisabledForScratch {
            case .some(false): failures.append("the scratch image's binary is built with cgo on: set CGO_ENABLED=0 so it links statically")
            case .some(true): found.append("CGO_ENABLED=0 for scratch")
            case .none: failures.append("expected a scratch final stage, found \(facts.finalBase)")
            }
        }
        if expectation.dependenciesFirst == true {
            switch facts.downloadsDependenciesBeforeSource {
            case .some(true): found.append("modules downloaded before the source is copied")
            case .some(false): failures.append("copy go.mod and run `go mod download` before copying the source, so the download stays cached")
            case .none: failures.append("no stage runs `go mod download`")
            }
        }
        if expectation.nonRootUser == true {
            if let user = facts.finalUser, !["root", "0", "0:0", "root:root"].contains(user) { found.append("runs as \(user)") }
            else { failures.append("the final stage runs as root: add a USER (for example nonroot)") }
        }
        let measured = found.joined(separator: ", ")
        return failures.isEmpty
            ? CheckResult(id: id, passed: true, message: "\(expectation.path): \(measured)", measured: measured)
            : CheckResult(id: id, passed: false, message: "\(expectation.path): " + failures.joined(separator: "; "), measured: measured)
    }
}
