import Foundation
import HandsOnEngine
import HandsOnMessages

/// The grade of a measured rebuild (apart from the builds, so it is tested on recorded measurements): 0 unless the
/// edit reached the rebuilt image; else the points of each aim met (the dependency step from the cache, the build
/// context) plus the score of the tier the rebuild's time is within. Every finding names the file, the layer and the
/// instruction it is about.
struct RebuildJudgement {
    let grading: Grading
    /// The file HandsOn edits, and the Dockerfile the findings name.
    let editFile: String
    let dockerfile: String

    init(grading: Grading) {
        self.grading = grading
        editFile = grading.editFile ?? ""
        dockerfile = grading.dockerfile
    }

    struct Verdict {
        var checks: [CheckResult] = []
        var score = 0
    }

    /// `contexts`: each build-context aim's result on the answer folder (`BuildContextCheck`).
    func judge(_ measurement: RebuildTrial.Measurement, contexts: [CheckID: CheckResult]) -> Verdict {
        var verdict = Verdict()
        let editReached = measurement.edit?.reached ?? true
        if let edit = measurement.edit { verdict.checks.append(editCheck(edit, measurement)) }
        var points = 0
        for aim in grading.rebuildAims {
            var result: CheckResult
            switch aim.kind {
            case .reuses(let command):
                result = reuseCheck(command, id: aim.id, measurement)
            case .buildContext:
                result = contextCheck(contexts[aim.id], id: aim.id, measurement)
            }
            if result.passed { points += aim.points }
            result = CheckResult(
                id: result.id, passed: result.passed,
                reason: (result.reason ?? .literal(""))
                    + Message(
                        result.passed ? .rebuild.aimPoints : .rebuild.aimNoPoints, ["points": "\(aim.points)"]),
                measured: result.measured)
            verdict.checks.append(result)
        }
        let shown = measurement.shown
        guard editReached else {
            verdict.checks.append(
                CheckResult(
                    id: .rebuild, passed: false,
                    reason: Message(
                        .rebuild.notScoredEditMissing, ["file": editFile],
                        parts: ["shown": measurement.shownMessage]),
                    measured: shown))
            return verdict
        }
        let score = grading.score(rebuildPercent: measurement.percent)
        let best = grading.rebuildTiers.map(\.score).max() ?? 100
        let next = grading.rebuildTiers.filter { $0.score > score }.max { $0.maxPercent < $1.maxPercent }
        let ranAgain = measurement.stepsRunAgain.map { $0.named(in: dockerfile) }
        verdict.checks.append(
            CheckResult(
                id: .rebuild, passed: score > 0,
                reason: Message(.rebuild.score, ["score": "\(score)"], parts: ["shown": measurement.shownMessage])
                    + (score < best && !ranAgain.isEmpty
                        ? Message(.rebuild.ranAgain, parts: ["steps": Message.list(ranAgain)]) : nil)
                    + (score < best
                        ? next.map {
                            Message(.rebuild.nextTier, ["percent": "\($0.maxPercent)", "score": "\($0.score)"])
                        }
                        : nil),
                measured: shown))
        verdict.score = min(100, points + score)
        return verdict
    }

    /// The edit in the rebuilt image: the finding names the edited file and the final stage's step the program came
    /// from (the last `COPY` or `ADD` the rebuild took from the cache, else its last step).
    private func editCheck(_ edit: EditEvidence, _ measurement: RebuildTrial.Measurement) -> CheckResult {
        let source = measurement.steps.last { step in
            let upper = step.instruction.uppercased()
            return step.cached && (upper.hasPrefix("COPY ") || upper.hasPrefix("ADD "))
        }
        let step = (source ?? measurement.steps.last).map { $0.named(in: dockerfile) } ?? .literal(dockerfile)
        switch edit {
        case .reached(let program):
            let built = measurement.stepsRunAgain.last.map { $0.named(in: dockerfile) } ?? .literal(dockerfile)
            return CheckResult(
                id: .edit, passed: true,
                reason: Message(
                    .rebuild.editReached, ["file": editFile, "program": program], parts: ["step": built]),
                measured: program)
        case .notInProgram(let program):
            return CheckResult(
                id: .edit, passed: false,
                reason: Message(
                    .rebuild.editNotInProgram, ["file": editFile, "program": program], parts: ["step": step]),
                measured: program)
        case .notPrinted(let program):
            return CheckResult(
                id: .edit, passed: false,
                reason: Message(
                    .rebuild.editNotPrinted, ["file": editFile, "program": program], parts: ["step": step]),
                measured: program)
        case .noProgram:
            return CheckResult(
                id: .edit, passed: false,
                reason: Message(.rebuild.editNoProgram, ["file": editFile], parts: ["step": step]))
        }
    }

    /// The dependency step: a `RUN` running `command` that the rebuild took from the cache, none that ran it again,
    /// and (where the builder names stages) in a stage whose later steps ran again, the stage that builds the edit: a
    /// download in a stage nothing uses is not the order the lesson asks.
    private func reuseCheck(_ command: String, id: CheckID, _ measurement: RebuildTrial.Measurement) -> CheckResult {
        let shown = measurement.shown
        let running = measurement.steps.filter { Self.runs(command, $0.instruction) }
        if let again = running.first(where: { !$0.cached }) {
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    .rebuild.stepRanAgainAt, ["file": editFile], parts: ["step": again.named(in: dockerfile)]),
                measured: shown)
        }
        guard let first = running.first else {
            return CheckResult(
                id: id, passed: false, reason: Message(.rebuild.noRunStep, ["text": command, "file": dockerfile]),
                measured: shown)
        }
        let builds = running.first { step in
            guard let stage = step.stage, let index = measurement.steps.firstIndex(of: step) else { return true }
            return measurement.steps[index...].contains { !$0.cached && $0.stage == stage }
        }
        guard let builds else {
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    .rebuild.reusedInAnIdleStage, ["file": editFile], parts: ["step": first.named(in: dockerfile)]),
                measured: shown)
        }
        return CheckResult(
            id: id, passed: true,
            reason: Message(.rebuild.reusedStepAt, ["file": editFile], parts: ["step": builds.named(in: dockerfile)]),
            measured: shown)
    }

    /// The build context's finding, with the step that copies the whole context into a layer (`COPY . .`).
    private func contextCheck(_ result: CheckResult?, id: CheckID, _ measurement: RebuildTrial.Measurement)
        -> CheckResult
    {
        guard let result else {
            return CheckResult(id: id, passed: false, reason: Message(.rebuild.contextNotMeasured))
        }
        let copiesAll = measurement.steps.first { Self.copiesTheWholeContext($0.instruction) }
        return CheckResult(
            id: id, passed: result.passed,
            reason: (result.reason ?? .literal(""))
                + (result.passed
                    ? nil
                    : copiesAll.map {
                        Message(.rebuild.contextCopiedBy, parts: ["step": $0.named(in: dockerfile)])
                    }),
            measured: result.measured)
    }

    /// Whether a `RUN` instruction runs `command` as one of its commands (not as an argument of another, such as
    /// `echo go mod download`): the shell form split at `&&`, `||`, `;`, `|` and new lines, or the exec form's words.
    static func runs(_ command: String, _ instruction: String) -> Bool {
        var rest = Substring(instruction.trimmingCharacters(in: .whitespaces))
        guard rest.uppercased().hasPrefix("RUN ") else { return false }
        rest = rest.dropFirst(4).drop { $0 == " " }
        // `--mount=...`, `--network=...` come before the command.
        while rest.hasPrefix("--") {
            rest = rest.drop { $0 != " " }.drop { $0 == " " }
        }
        var text = String(rest)
        if text.hasPrefix("["), let words = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) {
            text = words.joined(separator: " ")
        }
        let wanted = command.split(separator: " ")
        for separator in ["&&", "||", ";", "|", "\n"] {
            text = text.replacingOccurrences(of: separator, with: "\u{0}")
        }
        return text.split(separator: "\u{0}").contains { part in
            var words = part.split(separator: " ")[...]
            // Variables set for the command (`GOFLAGS=-mod=mod go mod download`), and `exec`.
            while let word = words.first, word.contains("=") || word == "exec" { words = words.dropFirst() }
            return words.starts(with: wanted)
        }
    }

    /// `COPY . .`, `COPY ./ /src/`, `ADD . /app`: a copy whose sources include the context's root (not another
    /// stage's, `--from`).
    static func copiesTheWholeContext(_ instruction: String) -> Bool {
        let words = instruction.split(separator: " ").map(String.init)
        guard let first = words.first, ["COPY", "ADD"].contains(first.uppercased()),
            !words.contains(where: { $0.hasPrefix("--from=") })
        else { return false }
        let operands = words.dropFirst().filter { !$0.hasPrefix("--") }
        return operands.dropLast().contains { $0 == "." || $0 == "./" }
    }
}
