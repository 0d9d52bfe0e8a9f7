import Foundation

/// Chooses hints from what the checks found: the chapter's hints for the checks that failed, then what the
/// Dockerfile itself shows (one big stage, cgo on before scratch), then the step's general hints. Advice that names a
/// technique is given only once the chapter has introduced it (a multi-stage build is no hint for the step before).
public enum Hints {
    public static func select(for step: Step, in chapter: Chapter, results: [CheckResult], directory: String, language: String) -> [String] {
        let failed = results.filter { !$0.passed }.map(\.id)
        var hints: [String] = []
        for id in failed {
            hints += step.hints.filter { $0.whenFailing == id }.map { $0.text.text(in: language) }
        }
        let sizeFailed = step.checks.contains { check in
            guard failed.contains(check.id) else { return false }
            if case .imageSize = check.kind { return true }
            if case .imageTiers = check.kind { return true }
            return false
        }
        if sizeFailed || !failed.isEmpty, let text = try? String(contentsOfFile: "\(directory)/Dockerfile", encoding: .utf8),
           let facts = try? DockerfileFacts(text: text) {
            if sizeFailed && facts.stageCount == 1
                && HintReview.isIntroduced(anyOf: ["multi-stage", "COPY --from"], by: step, in: chapter) {
                hints.append(language == "ja"
                    ? "Dockerfile のステージが FROM \(facts.finalBase) の 1 つだけなので、ビルドに使ったものがすべてイメージに残ります。"
                        + "最初のステージでビルドし、バイナリ (と web ファイル) だけを COPY --from で小さな最終ステージにコピーしてください。"
                    : "Your Dockerfile has one stage, FROM \(facts.finalBase): everything used to build stays in the image. "
                        + "Build in a first stage, then COPY --from it only the binary (and web files) into a small final stage.")
            }
            if facts.cgoDisabledForScratch == false {
                hints.append(language == "ja"
                    ? "最終ステージは scratch ですが、バイナリが cgo を有効にしたままビルドされているため、scratch にない C ライブラリが必要です。"
                        + "CGO_ENABLED=0 でビルドしてください。"
                    : "The final stage is scratch, but the binary is built with cgo on, so it needs a C library scratch lacks: "
                        + "build with CGO_ENABLED=0.")
            }
        }
        if hints.isEmpty || failed.isEmpty {
            hints += step.hints.filter { $0.whenFailing == nil }.map { $0.text.text(in: language) }
        }
        return hints
    }
}
