import Foundation
import HandsOnEngine
import HandsOnMessages

/// What `handson dev check` asks of a chapter's hints: every check that can fail has a hint of its own step (in every
/// language, which `LanguageReview` sees to), and no hint points to a technique a later step introduces (step 1 must not
/// tell a learner to do step 2).
public enum HintReview {
    /// Techniques a hint may name only once a step has introduced them (a step whose text names the term first).
    static let techniques = [
        "multi-stage", "COPY --from", "FROM scratch", "CGO_ENABLED", "distroless", "-ldflags",
        "-trimpath", "UPX", "busybox", "alpine", "--target", "nonroot",
    ]

    /// The problems found, each naming the chapter, the step and the check or hint.
    public static func problems(in chapter: Chapter) -> [String] {
        let introducedAt = introductions(in: chapter)
        var problems: [String] = []
        for (index, step) in chapter.steps.enumerated() {
            for check in step.checks where canFail(check) {
                let hints = step.hints.filter { $0.whenFailing == check.id.rawValue }
                if hints.isEmpty {
                    problems.append(
                        say(
                            .review.checkHasNoHint,
                            ["chapter": chapter.id, "step": step.id, "check": check.id.rawValue]))
                }
            }
            for hint in step.hints {
                let text = hint.text.text(in: .en)
                for technique in techniques where text.localizedCaseInsensitiveContains(technique) {
                    if let later = introducedAt[technique.lowercased()], later > index {
                        problems.append(
                            say(
                                .review.hintNamesLaterTechnique,
                                [
                                    "chapter": chapter.id, "step": step.id, "check": hint.whenFailing ?? "any",
                                    "technique": technique, "number": "\(later + 1)", "later": chapter.steps[later].id,
                                ]))
                    }
                }
            }
        }
        return problems
    }

    /// Whether a check can fail at all: a tier check passing at score 0 only reports where the image stands.
    static func canFail(_ check: CheckSpec) -> Bool {
        if case .imageTiers(_, _, let passScore) = check.kind { return passScore > 0 }
        return true
    }

    /// For each technique, the index of the first step whose English text or title names it.
    static func introductions(in chapter: Chapter) -> [String: Int] {
        var found: [String: Int] = [:]
        for (index, step) in chapter.steps.enumerated() {
            let path = "\(chapter.directory)/\(step.text.text(in: .en))"
            let text = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "") + "\n" + step.title.text(in: .en)
            for technique in techniques
            where found[technique.lowercased()] == nil && text.localizedCaseInsensitiveContains(technique) {
                found[technique.lowercased()] = index
            }
        }
        return found
    }

    /// Whether one of `techniques` has been introduced by `step` or an earlier one (the generic hints follow the same
    /// rule); the step texts are read once.
    static func isIntroduced(anyOf techniques: [String], by step: Step, in chapter: Chapter) -> Bool {
        guard let position = chapter.steps.firstIndex(where: { $0.id == step.id }) else { return false }
        let introducedAt = introductions(in: chapter)
        return techniques.contains { introducedAt[$0.lowercased()].map { $0 <= position } ?? false }
    }
}
