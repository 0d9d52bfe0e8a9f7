import Foundation
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

/// Answers a contestant writes to beat the secure-image grade, not to make a safer image: each is the chapter's best
/// answer with one thing hidden (a secret where the audit did not look, root spelled another way, a shell renamed).
/// Each must lose the top tier (a secret the next two as well) and say what it hid, with its file, layer and instruction. Kept apart from the
/// chapter's own examples, which show learners the tiers.
struct SecureImageGamingAnswer: CustomTestStringConvertible, Sendable {
    let name: String
    /// Lines added to the final stage of the chapter's best answer.
    let finalStage: String
    /// Lines added to its build stage.
    var buildStage = ""
    /// Files written over the starter.
    var files: [String: String] = [:]
    /// What one finding must say.
    let says: String
    /// A secret caps the grade at 40 (the starter's tier); anything else hidden loses the top tier only.
    var score: Int { hidesASecret ? 40 : 70 }
    var hidesASecret = true
    var testDescription: String { name }
}

private let token = "ghp_Zq8Wm3Lr5Tx9Kd2Hv7Bn4Pc6Fs1Gj0Ay3Ue"

extension GradingOnTheEngine {
    @Suite("Answers written to beat the security audit", .serialized, .enabled(if: EndToEnd.isEnabled))
    struct SecureImageGamingTests {
        static let answers: [SecureImageGamingAnswer] = [
            SecureImageGamingAnswer(
                name: "a key and a .env under /usr/src/app",
                finalStage: "COPY deploy/id_ed25519 .env /usr/src/app/\n",
                files: [".dockerignore": ".git\n"], says: "/usr/src/app/.env"),
            SecureImageGamingAnswer(
                name: "a key inside a tgz under another name",
                finalStage: "COPY --from=builder /out/bundle.tgz /usr/share/app/data.bin\n",
                buildStage: "RUN mkdir -p /out && tar -czf /out/bundle.tgz -C /src deploy\n",
                files: [".dockerignore": ".git\n.env\n"], says: "/usr/share/app/data.bin!deploy/id_ed25519"),
            SecureImageGamingAnswer(
                name: "a token baked into the config through ARG and ENV",
                finalStage: "ARG DEPLOY_TOKEN=\(token)\nENV GITHUB_TOKEN=$DEPLOY_TOKEN\n", says: "Env GITHUB_TOKEN"),
            SecureImageGamingAnswer(
                name: "a password in a label's URL",
                finalStage: "LABEL org.example.source=\"https://ci:Rq7xLm2vTz9k@git.example.com/app.git\"\n",
                says: "Labels org.example.source"),
            SecureImageGamingAnswer(
                name: "a git folder whose remote carries user:token",
                finalStage: "COPY vcs /srv/.git\n",
                files: [
                    "vcs/HEAD": "ref: refs/heads/main\n",
                    "vcs/config": "[remote \"origin\"]\n\turl = https://deploy:\(token)@github.com/org/app.git\n",
                ], says: "/srv/.git"),
            SecureImageGamingAnswer(
                name: "a secret after 100 KB of NUL bytes",
                finalStage: "COPY --from=builder /out/blob.txt /web/blob.txt\n",
                buildStage:
                    "RUN mkdir -p /out && head -c 100000 /dev/zero > /out/blob.txt"
                    + " && echo 'aws_secret_access_key = wJa7rXUtnFEMI/K7MDENG/bPxRfiCYzq9w3mBk2t' >> /out/blob.txt\n",
                says: "/web/blob.txt"),
            SecureImageGamingAnswer(name: "USER 0000", finalStage: "USER 0000\n", says: "0000", hidesASecret: false),
            SecureImageGamingAnswer(
                name: "a name that is uid 0 in the image's own passwd",
                finalStage: "COPY passwd /etc/passwd\nUSER app\n",
                files: ["passwd": "root:x:0:0:root:/root:/sbin/nologin\napp:x:0:0:app:/:/sbin/nologin\n"],
                says: "/etc/passwd", hidesASecret: false),
            SecureImageGamingAnswer(
                name: "a static busybox as /busybox/sh",
                finalStage: "COPY --from=busybox:1.36 /bin/busybox /busybox/sh\n", says: "/busybox/sh",
                hidesASecret: false),
            SecureImageGamingAnswer(
                name: "a busybox under a harmless name",
                finalStage: "COPY --from=busybox:1.36 /bin/busybox /usr/local/lib/libhelper.so\n",
                says: "/usr/local/lib/libhelper.so (BusyBox)", hidesASecret: false),
            SecureImageGamingAnswer(
                name: "the dpkg database brought back",
                finalStage: "COPY --from=builder /var/lib/dpkg/status /var/lib/dpkg/status\n",
                says: "/var/lib/dpkg/status", hidesASecret: false),
            SecureImageGamingAnswer(
                name: "a setuid server",
                finalStage: "COPY --from=builder --chmod=4755 /out/server /usr/local/bin/server-suid\n",
                says: "/usr/local/bin/server-suid", hidesASecret: false),
        ]

        /// The chapter's best answer (100 points) with `answer`'s lines added to each stage.
        static func dockerfile(_ answer: SecureImageGamingAnswer) throws -> String {
            let best = try String(
                contentsOfFile: "\(EndToEnd.repositoryRoot)/Chapters/secure-image/solutions/hardened.Dockerfile",
                encoding: .utf8)
            guard let final = best.range(of: "FROM gcr.io/distroless") else { throw CocoaError(.fileReadCorruptFile) }
            return best[..<final.lowerBound] + answer.buildStage + "\n" + best[final.lowerBound...] + answer.finalStage
        }

        @Test(arguments: answers)
        func aHiddenFindingLosesTheTopTier(_ answer: SecureImageGamingAnswer) async throws {
            let engine = try await EndToEnd.engine()
            _ = try await EndToEnd.prepareLab(on: engine)
            let chapter = try GradingEndToEndTests.chapter("secure-image")
            var files: [String: String?] = [
                "Dockerfile": try Self.dockerfile(answer),
                ".dockerignore": try String(
                    contentsOfFile: "\(EndToEnd.repositoryRoot)/Chapters/secure-image/solutions/dockerignore",
                    encoding: .utf8),
            ]
            for (name, contents) in answer.files { files[name] = contents }
            let folder = try GradingEndToEndTests.answer(for: chapter, files: [:])
            defer { try? FileManager.default.removeItem(atPath: folder) }
            for (name, contents) in files {
                let path = "\(folder)/\(name)"
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try? FileManager.default.removeItem(atPath: path)
                try contents?.write(toFile: path, atomically: true, encoding: .utf8)
            }
            let grader = try #require(Grader(chapter: chapter, engine: engine, effects: .system(runner: engine.runner)))
            let report = try await grader.grade(folder, name: "gaming")
            #expect(report.status == .graded)
            let findings = try #require(report.checks.first { $0.id == .findings }, "\(report.checks)")
            #expect(report.score == answer.score, "\(answer.name): \(findings.message)")
            #expect(findings.message.contains(answer.says), "\(findings.message)")
            #expect(!findings.message.contains(token), "the report never shows the secret")
            try await GradingEndToEndTests.expectNothingLeft(engine)
        }
    }
}
