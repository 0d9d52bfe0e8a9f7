import Foundation
import HandsOnEngine
import HandsOnMessages

/// What `handson dev check` asks of a chapter whose app serves pages (its starter has `web/index.html`): a step that
/// asks an image or URL for `/health` also asks it for the page at `/`, so an image that answers health but lost its
/// pages does not pass.
public enum PageReview {
    public static func problems(in chapter: Chapter) -> [String] {
        let starter = StarterFiles.directory(of: chapter)
        guard FileManager.default.fileExists(atPath: "\(starter)/web/index.html") else { return [] }
        var problems: [String] = []
        for step in chapter.steps {
            var healthOf: [String] = []
            var pageOf: Set<String> = []
            for check in step.checks {
                switch check.kind {
                case .imageServes(let serve):
                    if serve.path == "/health" { healthOf.append(serve.image) }
                    if serve.path == "/" { pageOf.insert(serve.image) }
                case .http(let expectation):
                    if expectation.url.hasSuffix("/health") {
                        healthOf.append(String(expectation.url.dropLast("health".count)))
                    } else if expectation.url.hasSuffix("/") {
                        pageOf.insert(expectation.url)
                    }
                default: break
                }
            }
            for subject in healthOf where !pageOf.contains(subject) {
                problems.append(
                    say(.review.onlyHealthChecked, ["chapter": chapter.id, "step": step.id, "subject": "\(subject)"]))
            }
        }
        return problems
    }
}
