import Foundation
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

extension GradingOnTheEngine {
    /// The audit reads an image's files from its layer folders on this machine, or from `image save` where they are
    /// not (a remote engine): the findings must not depend on which.
    @Suite("The audit's two readings of an image", .serialized, .enabled(if: EndToEnd.isEnabled))
    struct AuditSourcesTests {
        static let dockerfile = """
            FROM busybox:1.36
            COPY vcs /srv/.git
            RUN mkdir -p /k && printf '%s\\n' '-----BEGIN OPENSSH PRIVATE KEY-----' \
                'bm90IGEga2V5OiBhIG1hZGUtdXAgZmlsZSBmb3IgdGhlIEhhbmRzT24gdGVzdHM=' > /k/id \
                && tar -czf /srv/data.bin -C /k . && rm -rf /k
            RUN mkdir -p /usr/local/lib && cp /bin/busybox /usr/local/lib/helper && chmod 4755 /usr/local/lib/helper \
                && ln /usr/local/lib/helper /usr/local/lib/zz-linked \
                && echo 'API_TOKEN=handson-course-not-a-real-token-3f9a' > /tmp/.env && rm /tmp/.env
            USER 0000
            """

        @Test func theFoldersAndTheArchiveGiveTheSameFindings() async throws {
            let engine = try await EndToEnd.engine()
            _ = try await EndToEnd.prepareLab(on: engine)
            let folder = NSTemporaryDirectory() + "handson-audit-sources-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try FileManager.default.createDirectory(atPath: "\(folder)/vcs", withIntermediateDirectories: true)
            try Self.dockerfile.write(toFile: "\(folder)/Dockerfile", atomically: true, encoding: .utf8)
            try "[remote \"origin\"]\n\turl = https://deploy:Rq7xLm2vTz9k@git.example.com/app.git\n".write(
                toFile: "\(folder)/vcs/config", atomically: true, encoding: .utf8)
            let tag = "handson-audit-sources:\(UUID().uuidString.prefix(8).lowercased())"
            let built = try await engine.build(contextDirectory: folder, dockerfile: "\(folder)/Dockerfile", tag: tag)
            #expect(built.succeeded, "\(built.failureSummary)")
            defer { engine.removeNow(images: [tag], buildOutputs: [built.stdout + built.stderr]) }
            let fromFolders = try await engine.auditImage(tag, bases: ["busybox:1.36"])
            let fromArchive = try await engine.auditImage(
                tag, bases: ["busybox:1.36"], runningUsers: nil, from: .archive)
            func keys(_ image: AuditedImage) -> [String] {
                ImageSecurityAudit.findings(of: image, rules: SecurityRule.allCases).map {
                    "\($0.rule.rawValue) \($0.path ?? "-") \($0.layer.map(String.init) ?? "-") \($0.reason.text(in: .en))"
                }
            }
            #expect(keys(fromFolders) == keys(fromArchive))
            let rules = Set(ImageSecurityAudit.findings(of: fromArchive, rules: SecurityRule.allCases).map(\.rule))
            #expect(rules == [.secrets, .user, .shell, .packageManager, .setuid], "\(keys(fromArchive))")
            let said = keys(fromArchive).joined(separator: "\n")
            for expected in [
                "/srv/data.bin!", "/srv/.git", "/tmp/.env", "/usr/local/lib/helper", "/usr/local/lib/zz-linked", "0000",
            ] {
                #expect(said.contains(expected), "\(expected) in \(said)")
            }
        }
    }
}
