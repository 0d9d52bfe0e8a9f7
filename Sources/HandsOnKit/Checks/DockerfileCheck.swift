import Foundation

/// Facts read from the working folder's Dockerfile: stages, final base, pinned tags, exec form, cgo before scratch.
struct DockerfileCheck {
    let expectation: DockerfileExpectation

    func run(_ id: String, _ context: CheckContext) -> CheckResult {
        let path = "\(context.workingDirectory)/\(expectation.path)"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return CheckResult(id: id, passed: false, message: localized("\(expectation.path) is missing", ja: "\(expectation.path) がありません"))
        }
        var facts: DockerfileFacts
        do { facts = try DockerfileFacts(text: text) } catch {
            return CheckResult(id: id, passed: false, message: localized("\(expectation.path) cannot be read: \(error)", ja: "\(expectation.path) を読めません: \(error)"))
        }
        if let target = expectation.target {
            guard let targeted = facts.forTarget(target) else {
                return CheckResult(id: id, passed: false, message: localized("\(expectation.path) has no stage named \(target) (FROM ... AS \(target))",
                                                                               ja: "\(expectation.path) に \(target) という名前のステージがありません (FROM ... AS \(target))"))
            }
            facts = targeted
        }
        var failures: [String] = []
        var found: [String] = [localized("\(facts.stageCount) stage\(facts.stageCount == 1 ? "" : "s")", ja: "ステージ \(facts.stageCount) 個"),
                                localized("final base \(facts.finalBase)", ja: "最終ステージのベース \(facts.finalBase)")]
        if let stages = expectation.stages, facts.stageCount != stages { failures.append(localized("expected \(stages) stages, found \(facts.stageCount)", ja: "ステージは \(stages) 個のはずですが、\(facts.stageCount) 個あります")) }
        if let least = expectation.atLeastStages, facts.stageCount < least {
            failures.append(localized("expected a multi-stage build (\(least) or more stages), found \(facts.stageCount)",
                                       ja: "マルチステージビルド (ステージ \(least) 個以上) のはずですが、ステージは \(facts.stageCount) 個です"))
        }
        if let base = expectation.finalBase, ImageReference(facts.finalBase) != ImageReference(base), facts.finalBase != base {
            failures.append(localized("the final stage should be FROM \(base), not \(facts.finalBase)",
                                       ja: "最終ステージは \(facts.finalBase) ではなく FROM \(base) にしてください"))
        }
        if expectation.pinnedTags == true, !facts.unpinnedBases.isEmpty {
            failures.append(localized("pin a tag instead of latest: \(facts.unpinnedBases.joined(separator: ", "))",
                                       ja: "latest ではなくタグを固定してください: \(facts.unpinnedBases.joined(separator: ", "))"))
        }
        if expectation.execForm == true {
            for instruction in [facts.entrypoint, facts.command].compactMap({ $0 }) where !instruction.isExecForm {
                failures.append(localized("line \(instruction.line): \(instruction.keyword) \(instruction.arguments) is shell form; "
                                          + "use the exec (JSON) form, as images without a shell cannot run it",
                                          ja: "\(instruction.line) 行目: \(instruction.keyword) \(instruction.arguments) はシェル形式です。"
                                          + "シェルのないイメージでは実行できないので、exec 形式 (JSON 配列) を使ってください"))
            }
        }
        if expectation.cgoDisabledForScratch == true {
            switch facts.cgoDisabledForScratch {
            case .some(false): failures.append(localized("the scratch image's binary is built with cgo on: set CGO_ENABLED=0 so it links statically",
                                                      ja: "scratch イメージのバイナリが cgo を有効にしたままビルドされています。静的リンクになるよう CGO_ENABLED=0 を指定してください"))
            case .some(true): found.append(localized("CGO_ENABLED=0 for scratch", ja: "scratch 用に CGO_ENABLED=0"))
            case .none: failures.append(localized("expected a scratch final stage, found \(facts.finalBase)", ja: "最終ステージは scratch のはずですが、\(facts.finalBase) です"))
            }
        }
        if expectation.dependenciesFirst == true {
            switch facts.downloadsDependenciesBeforeSource {
            case .some(true): found.append(localized("modules downloaded before the source is copied", ja: "ソースのコピーより前にモジュールをダウンロード"))
            case .some(false): failures.append(localized("copy go.mod and run `go mod download` before copying the source, so the download stays cached",
                                                       ja: "ダウンロードがキャッシュに残るよう、ソースをコピーする前に go.mod をコピーして `go mod download` を実行してください"))
            case .none: failures.append(localized("no stage runs `go mod download`", ja: "`go mod download` を実行するステージがありません"))
            }
        }
        if expectation.nonRootUser == true {
            if let user = facts.finalUser, !["root", "0", "0:0", "root:root"].contains(user) { found.append(localized("runs as \(user)", ja: "\(user) として実行")) }
            else { failures.append(localized("the final stage runs as root: add a USER (for example nonroot)", ja: "最終ステージが root で実行されます。USER を追加してください (例: nonroot)")) }
        }
        let measured = found.joined(separator: ", ")
        return failures.isEmpty
            ? CheckResult(id: id, passed: true, message: "\(expectation.path): \(measured)", measured: measured)
            : CheckResult(id: id, passed: false, message: "\(expectation.path): " + failures.joined(separator: localized("; ", ja: "。")), measured: measured)
    }
}
