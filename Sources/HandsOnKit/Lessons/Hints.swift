import Foundation
import HandsOnEngine
import HandsOnMessages

/// Chooses hints from what the checks found: the chapter's hints for the checks that failed, then what the
/// Dockerfile itself shows (one big stage, cgo on before scratch), then the step's general hints. Advice that names a
/// technique is given only once the chapter has introduced it (a multi-stage build is no hint for the step before).
public enum Hints {
    public static func select(
        for step: Step, in chapter: Chapter, results: [CheckResult], directory: String, language: Language
    ) -> [String] {
        let failed = results.filter { !$0.passed }.map(\.id)
        var hints: [String] = []
        for id in failed {
            hints += step.hints.filter { $0.whenFailing == id.rawValue }.map { $0.text.text(in: language) }
        }
        let sizeFailed = step.checks.contains { check in
            guard failed.contains(check.id) else { return false }
            if case .imageSize = check.kind { return true }
            if case .imageTiers = check.kind { return true }
            return false
        }
        if sizeFailed || !failed.isEmpty,
            let text = try? String(contentsOfFile: "\(directory)/Dockerfile", encoding: .utf8),
            let facts = try? DockerfileFacts(text: text)
        {
            if sizeFailed && facts.stageCount == 1
                && HintReview.isIntroduced(anyOf: ["multi-stage", "COPY --from"], by: step, in: chapter)
            {
                hints.append(Message(.hints.oneStage, ["base": facts.finalBase]).text(in: language))
            }
            if facts.cgoDisabledForScratch == false {
                hints.append(Message(.hints.cgoInScratch).text(in: language))
            }
        }
        if hints.isEmpty || failed.isEmpty {
            hints += step.hints.filter { $0.whenFailing == nil }.map { $0.text.text(in: language) }
        }
        return hints
    }
}
