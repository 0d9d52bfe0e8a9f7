import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnMessages

/// Facts read from the working folder's Dockerfile: stages, final base, pinned tags, exec form, cgo before scratch.
struct DockerfileCheck {
    let expectation: DockerfileExpectation

    func run(_ id: CheckID, _ context: CheckContext) -> CheckResult {
        let path = "\(context.workingDirectory)/\(expectation.path)"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return CheckResult(
                id: id, passed: false, reason: Message(.checkRunner.pathMissing, ["path": "\(expectation.path)"]))
        }
        var facts: DockerfileFacts
        do { facts = try DockerfileFacts(text: text) } catch {
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    .dockerfileCheck.pathCannotReadError, ["path": "\(expectation.path)"], then: [.of(error)]))
        }
        if let target = expectation.target {
            guard let targeted = facts.forTarget(target) else {
                return CheckResult(
                    id: id, passed: false,
                    reason: Message(
                        .dockerfileCheck.pathHasStageNamed, ["path": "\(expectation.path)", "target": "\(target)"]))
            }
            facts = targeted
        }
        var failures: [Message] = []
        var found: [Message] = [
            Message(.dockerfileCheck.stageCount, count: facts.stageCount),
            Message(.dockerfileCheck.finalBaseFinalbase, ["finalBase": "\(facts.finalBase)"]),
        ]
        if let stages = expectation.stages, facts.stageCount != stages {
            failures.append(
                Message(
                    .dockerfileCheck.expectedStagesStagesFound,
                    ["stages": "\(stages)", "stageCount": "\(facts.stageCount)"]))
        }
        if let least = expectation.atLeastStages, facts.stageCount < least {
            failures.append(
                Message(
                    .dockerfileCheck.expectedMultiStageBuild,
                    ["least": "\(least)", "stageCount": "\(facts.stageCount)"]))
        }
        if let base = expectation.finalBase, ImageReference(facts.finalBase) != ImageReference(base),
            facts.finalBase != base
        {
            failures.append(
                Message(.dockerfileCheck.finalStageShouldFrom, ["base": "\(base)", "finalBase": "\(facts.finalBase)"]))
        }
        if expectation.pinnedTags == true, !facts.unpinnedBases.isEmpty {
            failures.append(
                Message(
                    .dockerfileCheck.pinTagInsteadLatest,
                    parts: ["unpinnedBases": Message.list(facts.unpinnedBases.map(Message.literal))]))
        }
        if expectation.execForm == true {
            for instruction in [facts.entrypoint, facts.command].compactMap({ $0 }) where !instruction.isExecForm {
                failures.append(
                    Message(
                        .dockerfileCheck.lineLineKeywordArguments,
                        [
                            "line": "\(instruction.line)", "keyword": "\(instruction.keyword)",
                            "arguments": "\(instruction.arguments)",
                        ]))
            }
        }
        if expectation.cgoDisabledForScratch == true {
            switch facts.cgoDisabledForScratch {
            case .some(false): failures.append(Message(.dockerfileCheck.scratchImageSBinary))
            case .some(true): found.append(Message(.dockerfileCheck.cgoEnabledScratch))
            case .none:
                failures.append(
                    Message(.dockerfileCheck.expectedScratchFinalStage, ["finalBase": "\(facts.finalBase)"]))
            }
        }
        if expectation.dependenciesFirst == true {
            switch facts.downloadsDependenciesBeforeSource {
            case .some(true): found.append(Message(.dockerfileCheck.modulesDownloadedBeforeSource))
            case .some(false): failures.append(Message(.dockerfileCheck.copyGoModRun))
            case .none: failures.append(Message(.dockerfileCheck.stageRunsGoMod))
            }
        }
        if expectation.nonRootUser == true {
            if let user = facts.finalUser, !["root", "0", "0:0", "root:root"].contains(user) {
                found.append(Message(.dockerfileCheck.runsUser, ["user": "\(user)"]))
            } else {
                failures.append(Message(.dockerfileCheck.finalStageRunsRoot))
            }
        }
        // The facts as messages in the reason, rendered where it is shown; `measured` is the display value.
        let measured = Message.list(found).text()
        return failures.isEmpty
            ? CheckResult(
                id: id, passed: true, reason: .labelled(expectation.path, .list(found)), measured: measured)
            : CheckResult(
                id: id, passed: false,
                reason: .labelled(expectation.path, Message.list(failures, separator: .list.clauseSeparator)),
                measured: measured)
    }
}
