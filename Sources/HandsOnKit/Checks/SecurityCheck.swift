import Foundation

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

/// One thing the audit found, with the layer and instruction that put it there where it is a file.
public struct SecurityFinding: Sendable, Equatable {
    public let rule: SecurityRule
    public let path: String?
    public let layer: Int?
    public let instruction: String?
    public let reason: Message
}

/// Reads an image's user and its layers (the same measurement as its size: layer folders or the archive) for what the
/// rules forbid.
public enum ImageSecurityAudit {
    /// Paths of the final file system that are a shell.
    static let shells = [
        "bin/sh", "bin/bash", "bin/ash", "bin/dash", "bin/busybox", "usr/bin/sh", "usr/bin/bash", "usr/bin/dash",
        "usr/bin/busybox",
    ]
    /// Paths of the final file system that are a package manager.
    static let packageManagers = [
        "usr/bin/apt", "usr/bin/apt-get", "usr/bin/dpkg", "bin/dpkg", "sbin/apk", "bin/apk", "usr/bin/apk",
        "bin/rpm", "usr/bin/rpm", "usr/bin/yum", "usr/bin/dnf", "usr/bin/microdnf",
    ]

    public static func findings(
        of measurement: ImageSizeMeasurement, user: String, rules: [SecurityRule]
    ) -> [SecurityFinding] {
        var found: [SecurityFinding] = []
        func instruction(_ layer: Int) -> String? {
            measurement.layers.indices.contains(layer - 1) ? measurement.layers[layer - 1].instruction : nil
        }
        for rule in rules {
            switch rule {
            case .user:
                if isRoot(user) {
                    found.append(
                        SecurityFinding(
                            rule: .user, path: nil, layer: nil, instruction: nil,
                            reason: Message(
                                "security.runsAsRoot", ["user": user.isEmpty ? "root" : user])))
                }
            case .shell, .packageManager:
                // One finding for all the shells (or package managers): they go together and out together.
                let present = (rule == .shell ? shells : packageManagers).filter {
                    measurement.shallowPaths["/" + $0] != nil
                }
                if let first = present.first {
                    found.append(
                        SecurityFinding(
                            rule: rule, path: first, layer: nil, instruction: nil,
                            reason: Message(
                                rule == .shell ? "security.hasShell" : "security.hasPackageManager",
                                ["path": MessageCatalog.list(present.map { "/" + $0 })])))
                }
            case .setuid:
                for finding in measurement.marks where finding.inFinalImage {
                    guard finding.mark.kind == .setuid || finding.mark.kind == .setgid else { continue }
                    found.append(
                        SecurityFinding(
                            rule: .setuid, path: finding.mark.path, layer: finding.layer,
                            instruction: instruction(finding.layer),
                            reason: Message(
                                finding.mark.kind == .setuid ? "security.setuidFile" : "security.setgidFile",
                                ["path": "/" + finding.mark.path, "mode": finding.mark.detail])))
                }
            case .secrets:
                var seen = Set<String>()
                for finding in measurement.marks {
                    guard finding.mark.kind == .secretName || finding.mark.kind == .secretContent,
                        seen.insert("\(finding.layer) \(finding.mark.path)").inserted
                    else { continue }
                    let made = instruction(finding.layer) ?? "?"
                    found.append(
                        SecurityFinding(
                            rule: .secrets, path: finding.mark.path, layer: finding.layer, instruction: made,
                            reason: Message(
                                finding.inFinalImage ? "security.secretInLayer" : "security.secretDeletedButInLayer",
                                [
                                    "path": "/" + finding.mark.path, "what": finding.mark.detail,
                                    "layer": "\(finding.layer)", "instruction": made,
                                ])))
                }
            }
        }
        return found
    }

    /// Whether a `User` value (`""`, `root`, `0`, `0:0`, `nonroot`, `65532:65532`) runs as root.
    public static func isRoot(_ user: String) -> Bool {
        let name = user.split(separator: ":", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return name.isEmpty || name == "root" || name == "0"
    }
}

struct SecurityCheck {
    let rules: ImageSecurityRules

    func run(_ id: CheckID, _ context: CheckContext) async throws -> CheckResult {
        let image = context.image(rules.image)
        guard let (resolved, measurement) = try await context.measured(image) else {
            return context.notFound(id, image)
        }
        let user = try await context.engine.imageUser(resolved)
        let findings = ImageSecurityAudit.findings(of: measurement, user: user, rules: rules.rules)
        let measured = "\(findings.count)"
        guard findings.count > rules.maxFindings else {
            return CheckResult(
                id: id, passed: true,
                reason: Message(
                    "security.passed",
                    [
                        "count": measured,
                        "rules": MessageCatalog.list(rules.rules.map { say("security.rule.\($0.rawValue)") }),
                    ]),
                measured: measured)
        }
        let shown = findings.prefix(5).map(\.reason)
        let more = findings.count > 5 ? Message("security.andMore", ["count": "\(findings.count - 5)"]) : nil
        return CheckResult(
            id: id, passed: false,
            reason: Message("security.failed", ["count": measured, "allowed": "\(rules.maxFindings)"])
                + Message.list(shown, separator: "list.semicolon") + more,
            measured: measured)
    }
}

extension ContainerEngine {
    /// The image's configured user (`Config.User`): empty when it runs as root by default.
    public func imageUser(_ reference: String) async throws -> String {
        if let image = await viaAPI({ try await $0.image(reference) }), let image { return image.user ?? "" }
        let result = try await execute(["image", "inspect", "--format", "{{.Config.User}}", reference], timeout: 30)
        guard result.succeeded else { throw EngineError.commandFailed(result) }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The user ids (or names, where the engine shows names) of a running container's processes.
    public func processUsers(_ container: String) async throws -> [String] {
        let arguments =
            kind == .docker ? ["container", "top", container, "-eo", "pid,uid"] : ["top", container, "pid", "user"]
        let result = try await execute(arguments, timeout: 30)
        guard result.succeeded else { throw EngineError.commandFailed(result) }
        let rows = TextLines.split(result.stdout).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        return rows.dropFirst().compactMap { row in row.split(separator: " ").last.map(String.init) }
    }
}
