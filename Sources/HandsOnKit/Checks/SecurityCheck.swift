import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnMessages
import HandsOnProcesses

/// What the security audit looks at in an image, the worst first (the audit reports in this order).
public enum SecurityRule: String, Sendable, Codable, CaseIterable {
    /// No secret in any layer, deleted later or not.
    case secrets
    /// The image's `User` is not root.
    case user
    /// No shell in the final file system.
    case shell
    /// No package manager in the final file system.
    case packageManager
    /// No setuid or setgid file in the final file system.
    case setuid
}

/// Audits an image for the security rules asked: `maxFindings` or fewer findings pass.
public struct ImageSecurityRules: Sendable, Equatable {
    public let image: String
    public let rules: [SecurityRule]
    public let maxFindings: Int
}

/// One thing the audit found, with the file, the layer and the instruction that put it there where it has them.
public struct SecurityFinding: Sendable, Equatable {
    public let rule: SecurityRule
    public let path: String?
    public let layer: Int?
    public let instruction: String?
    public let reason: Message
}

/// Reads an audited image for what the rules forbid. Secrets count in every layer above the base image's (a file
/// deleted later is still in the layer that added it); shells, package managers and setuid files wherever they came
/// from, if the final file system has them.
public enum ImageSecurityAudit {
    public static func findings(of image: AuditedImage, rules: [SecurityRule]) -> [SecurityFinding] {
        let measurement = image.measurement
        func instruction(_ layer: Int) -> String {
            let text = measurement.layers.indices.contains(layer - 1) ? measurement.layers[layer - 1].instruction : nil
            return redacted(text ?? "?")
        }
        var found: [SecurityFinding] = []
        for rule in rules {
            switch rule {
            case .user:
                if let finding = userFinding(image) { found.append(finding) }
            case .shell, .packageManager:
                if let finding = programFinding(image, shells: rule == .shell, instruction: instruction) {
                    found.append(finding)
                }
            case .setuid:
                for finding in measurement.marks where finding.inFinalImage {
                    guard finding.mark.kind == .setuid || finding.mark.kind == .setgid else { continue }
                    found.append(
                        SecurityFinding(
                            rule: .setuid, path: finding.mark.path, layer: finding.layer,
                            instruction: instruction(finding.layer),
                            reason: Message(
                                finding.mark.kind == .setuid ? .security.setuidFile : .security.setgidFile,
                                [
                                    "path": "/" + finding.mark.path, "mode": finding.mark.detail,
                                    "layer": "\(finding.layer)", "instruction": instruction(finding.layer),
                                ])))
                }
            case .secrets:
                found += secretFindings(image, instruction: instruction)
            }
        }
        return found
    }

    /// Root, as the kernel runs it: the image's user resolved, and the running process's user where it was asked.
    static func userFinding(_ image: AuditedImage) -> SecurityFinding? {
        let user = image.user
        // A name the engine shows is the image's: `app` is root where the image's passwd gives it uid 0.
        let runningRoot = image.runningUsers?.first {
            AuditedImage.isRootUser($0) || ImageUser(configured: $0, passwd: image.passwd).isRoot
        }
        guard user.isRoot || runningRoot != nil else { return nil }
        var reason =
            user.isRoot
            ? Message(
                user.source == .passwd ? .security.runsAsRootAlias : .security.runsAsRoot,
                ["user": user.configured.isEmpty ? "root" : user.configured])
            : Message(.security.runningAsRootOnly, ["user": user.configured])
        if let runningRoot { reason = reason + Message(.security.runningUid, ["uid": runningRoot]) }
        return SecurityFinding(rule: .user, path: nil, layer: nil, instruction: nil, reason: reason)
    }

    /// One finding for all the shells (or package managers): they go together and out together. By name (also as a
    /// link, as busybox's applets are) and, in the answer's layers, by what an executable is.
    static func programFinding(
        _ image: AuditedImage, shells: Bool, instruction: (Int) -> String
    ) -> SecurityFinding? {
        let kind: LayerMark.Kind = shells ? .shell : .packageManager
        var present: [(path: String, layer: Int, label: String)] = []
        for finding in image.measurement.marks where finding.inFinalImage && finding.mark.kind == kind {
            present.append(("/" + finding.mark.path, finding.layer, "/" + finding.mark.path))
        }
        for content in image.contents where content.inFinalImage {
            guard let program = content.finding.program, program.isShell == shells,
                !present.contains(where: { $0.path == "/" + content.finding.path })
            else { continue }
            present.append(
                ("/" + content.finding.path, content.layer, "/\(content.finding.path) (\(program.rawValue))"))
        }
        guard !present.isEmpty else { return nil }
        present.sort { $0.layer != $1.layer ? $0.layer > $1.layer : $0.path < $1.path }
        let first = present[0]
        let shown = present.prefix(5).map(\.label) + (present.count > 5 ? ["+\(present.count - 5)"] : [])
        return SecurityFinding(
            rule: shells ? .shell : .packageManager, path: String(first.path.dropFirst()), layer: first.layer,
            instruction: instruction(first.layer),
            reason: Message(
                shells ? .security.hasShell : .security.hasPackageManager,
                ["layer": "\(first.layer)", "instruction": instruction(first.layer)],
                parts: ["path": Message.list(shown.map(Message.literal))]))
    }

    /// Secrets: by name and by content in the answer's layers (the base image's own files are its distribution's),
    /// inside archives, version control folders in the final image, and the image's config and history.
    static func secretFindings(_ image: AuditedImage, instruction: (Int) -> String) -> [SecurityFinding] {
        var byFile: [String: (path: String, layer: Int, final: Bool, what: [Message])] = [:]
        var order: [String] = []
        func add(_ path: String, layer: Int, final: Bool, _ what: Message) {
            let key = "\(layer) \(path)"
            if byFile[key] == nil {
                byFile[key] = (path, layer, final, [])
                order.append(key)
            }
            if !byFile[key]!.what.contains(what) { byFile[key]!.what.append(what) }
        }
        var folders: [String: Int] = [:]
        for finding in image.measurement.marks where finding.layer > image.baseLayers {
            guard !image.baseOwnFiles.contains("\(finding.layer) \(finding.mark.path)") else { continue }
            switch finding.mark.kind {
            case .secretName:
                add(
                    finding.mark.path, layer: finding.layer, final: finding.inFinalImage,
                    Message(.security.kind.name, ["pattern": finding.mark.detail]))
            case .versionControl where finding.inFinalImage:
                if folders[finding.mark.detail] == nil { folders[finding.mark.detail] = finding.layer }
            default: continue
            }
        }
        for content in image.contents {
            guard
                !image.baseOwnFiles.contains(
                    "\(content.layer) \(content.finding.path.split(separator: "!").first ?? "")")
            else { continue }
            for pattern in content.finding.patterns {
                add(
                    content.finding.path, layer: content.layer, final: content.inFinalImage,
                    Message(.composed("security.kind.\(pattern.kind)")))
            }
            if let unread = content.finding.unread {
                add(
                    content.finding.path, layer: content.layer, final: content.inFinalImage,
                    Message(.security.kind.unreadArchive, ["format": unread]))
            }
            for mark in content.finding.marks {
                add(
                    content.finding.path, layer: content.layer, final: content.inFinalImage,
                    mark.kind == .versionControl
                        ? Message(.security.kind.versionControl)
                        : Message(.security.kind.name, ["pattern": mark.detail]))
            }
        }
        var found: [SecurityFinding] = order.map { key in
            let file = byFile[key]!
            let made = instruction(file.layer)
            return SecurityFinding(
                rule: .secrets, path: file.path, layer: file.layer, instruction: made,
                reason: Message(
                    file.final ? .security.secretInLayer : .security.secretDeletedButInLayer,
                    ["path": "/" + file.path, "layer": "\(file.layer)", "instruction": made],
                    parts: ["what": Message.list(file.what)]))
        }
        for (folder, layer) in folders.sorted(by: { $0.key < $1.key }) {
            found.append(
                SecurityFinding(
                    rule: .secrets, path: folder, layer: layer, instruction: instruction(layer),
                    reason: Message(
                        .security.versionControlFolder,
                        ["path": "/" + folder, "layer": "\(layer)", "instruction": instruction(layer)])))
        }
        var seen = Set<String>()
        for text in image.config {
            let kinds = SecretPatterns.builtIn.matches(in: text.text).map(\.pattern.kind)
            guard !kinds.isEmpty, seen.insert("\(text.field.rawValue) \(text.name)").inserted else { continue }
            var unique: [String] = []
            for kind in kinds where !unique.contains(kind) { unique.append(kind) }
            let what = Message.list(unique.map { Message(.composed("security.kind.\($0)")) })
            let reason =
                text.field == .history
                ? Message(.security.secretInHistory, ["instruction": redacted(text.name)], parts: ["what": what])
                : Message(
                    .security.secretInConfig, ["field": text.field.rawValue, "name": redacted(text.name)],
                    parts: ["what": what])
            found.append(
                SecurityFinding(
                    rule: .secrets, path: nil, layer: nil,
                    instruction: text.field == .history ? redacted(text.name) : nil, reason: reason))
        }
        return found
    }

    /// `text` with every secret it holds cut to its first four characters: a report shows where a secret is, never
    /// the secret.
    public static func redacted(_ text: String) -> String {
        var bytes = Array(text.utf8)
        let matches = bytes.withUnsafeMutableBytes {
            SecretPatterns.builtIn.matches(in: UnsafeRawBufferPointer($0), text: true)
        }
        guard !matches.isEmpty else { return text }
        for match in matches.sorted(by: { $0.offset > $1.offset }) {
            var end = match.offset
            while end < bytes.count, bytes[end] > 32, bytes[end] != 34, bytes[end] != 39 { end += 1 }
            let keep = min(end, match.offset + 4)
            bytes.replaceSubrange(keep..<end, with: Array("…".utf8))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

struct SecurityCheck {
    let rules: ImageSecurityRules

    func run(_ id: CheckID, _ context: CheckContext) async throws -> CheckResult {
        let image = context.image(rules.image)
        guard let resolved = await context.engine.resolveImage(image) else { return context.notFound(id, image) }
        let running = rules.rules.contains(.user) ? await Self.runningUsers(of: resolved, context) : nil
        let audited: AuditedImage
        do {
            audited = try await context.engine.auditImage(resolved, runningUsers: running)
        } catch let error as ImageAuditError {
            return CheckResult(id: id, passed: false, reason: .literal(error.description))
        }
        let findings = ImageSecurityAudit.findings(of: audited, rules: rules.rules)
        let measured = "\(findings.count)"
        let user = rules.rules.contains(.user) ? Self.userSummary(audited) : nil
        guard findings.count > rules.maxFindings else {
            return CheckResult(
                id: id, passed: true,
                reason: Message(
                    .security.passed, ["count": measured],
                    parts: [
                        "rules": Message.list(rules.rules.map { Message(.composed("security.rule.\($0.rawValue)")) })
                    ])
                    + user,
                measured: measured)
        }
        let shown = findings.prefix(5).map(\.reason)
        let more = findings.count > 5 ? Message(.security.andMore, ["count": "\(findings.count - 5)"]) : nil
        return CheckResult(
            id: id, passed: false,
            reason: Message(.security.failed, ["count": measured, "allowed": "\(rules.maxFindings)"])
                + Message.list(shown, separator: .list.semicolon) + more + user,
            measured: measured)
    }

    /// The image's user as configured and resolved, and its running process's, said in one clause.
    static func userSummary(_ audited: AuditedImage) -> Message {
        let configured = audited.user.configured.isEmpty ? "root" : audited.user.configured
        let uid = audited.user.uid.map(String.init) ?? "?"
        guard let running = audited.runningUsers, !running.isEmpty else {
            return Message(.security.userResolved, ["user": configured, "uid": uid])
        }
        return Message(
            .security.userResolvedAndRunning, ["user": configured, "uid": uid],
            parts: ["running": Message.list(Array(Set(running)).sorted().map(Message.literal))])
    }

    /// What the engine shows as the user of the image's processes once it runs (with no network, the run limits on),
    /// asked as soon as it runs; nil when it does not start or stops at once.
    static func runningUsers(of image: String, _ context: CheckContext) async -> [String]? {
        let name = "handson-user-\(UUID().uuidString.prefix(12).lowercased())"
        return await withCleanUp {
            do {
                _ = try await context.engine.startContainer(
                    image: image, name: name, ports: [], labels: context.containerLabels,
                    extraArguments: CommandOutputCheck.limits + ["--network", "none"] + context.runArguments)
            } catch {
                return nil
            }
            for _ in 0..<20 {
                if let users = try? await context.engine.processUsers(name), !users.isEmpty { return users }
                guard (try? await context.engine.containerState(name).running) == true else { return nil }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return nil
        } cleanUp: {
            await context.engine.removeContainers([name])
        }
    }
}
