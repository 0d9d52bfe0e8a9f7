import Foundation

/// A fact about one file of a layer that the security audit reports: a setuid or setgid file, or a secret found by its
/// name or by what it holds.
public struct LayerMark: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case setuid, setgid
        /// A name secrets are kept under (`.env`, `id_ed25519`, `*.pem` outside the system's certificates).
        case secretName
        /// Content that is a secret (`-----BEGIN ... PRIVATE KEY-----`).
        case secretContent
    }

    /// Relative to the root, without a leading `/`.
    public let path: String
    public let kind: Kind
    /// What matched: the name pattern or the content marker.
    public let detail: String
}

/// What counts as a secret in an image layer, and where to look: the same rules for a layer read from its archive and
/// from its folder on disk, so both give the same findings.
public enum SecretRules {
    /// File names that hold secrets, matched on the last path component.
    static let secretNames: Set<String> = [
        ".env", ".netrc", ".npmrc", ".pypirc", ".git-credentials", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519",
        "credentials", "secrets.json", "secrets.yaml", "secrets.yml",
    ]
    /// Name endings that hold keys.
    static let secretSuffixes = [".pem", ".key", ".p12", ".pfx", ".env"]
    /// Content markers: a private key in PEM form, cloud credentials.
    static let markers = ["PRIVATE KEY-----", "PRIVATE KEY BLOCK-----", "aws_secret_access_key"]
    /// Folders a distribution owns: their keys are test data and certificates of the system, not the answer's secrets.
    static let systemFolders = [
        "usr/", "lib/", "lib32/", "lib64/", "libx32/", "bin/", "sbin/", "etc/ssl/", "etc/pki/", "var/lib/", "proc/",
        "sys/",
    ]
    /// Files larger than this are not read for markers (keys and `.env` files are small).
    static let contentLimit: Int64 = 64 * 1024

    static func isSystem(_ path: String) -> Bool { systemFolders.contains { path.hasPrefix($0) } }

    /// The marks a regular file gets from its path and mode.
    static func marks(path: String, mode: UInt32) -> [LayerMark] {
        var marks: [LayerMark] = []
        if mode & 0o4000 != 0 { marks.append(LayerMark(path: path, kind: .setuid, detail: String(mode, radix: 8))) }
        if mode & 0o2000 != 0 { marks.append(LayerMark(path: path, kind: .setgid, detail: String(mode, radix: 8))) }
        if !isSystem(path) {
            let name = (path as NSString).lastPathComponent
            if secretNames.contains(name) {
                marks.append(LayerMark(path: path, kind: .secretName, detail: name))
            } else if let suffix = secretSuffixes.first(where: { name.hasSuffix($0) && name.count > $0.count }) {
                marks.append(LayerMark(path: path, kind: .secretName, detail: "*" + suffix))
            }
        }
        return marks
    }

    /// Whether a file's content is read for markers: small, outside the system's folders.
    static func scansContent(path: String, size: Int64) -> Bool {
        size > 0 && size <= contentLimit && !isSystem(path)
    }

    /// The first marker the content holds.
    static func marker(in bytes: [UInt8]) -> String? {
        let content = Data(bytes)
        return markers.first { content.range(of: Data($0.utf8)) != nil }
    }
}
