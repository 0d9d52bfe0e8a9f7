import Foundation

/// A fact about one path of a layer that the security audit reports, found from its name and mode alone while the
/// layer is walked (what a file holds is read by the audit itself, `LayerContentAudit`).
public struct LayerMark: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case setuid, setgid
        /// A name secrets are kept under (`.env`, `id_ed25519`, `*.pem`), wherever it lies.
        case secretName
        /// A file inside a version control folder (`.git`, `.svn`, `.hg`, `.bzr`); `detail` is the folder.
        case versionControl
        /// A shell by its name (`sh`, `bash`, `dash`, `ash`, `zsh`, `busybox`, ...), wherever it lies.
        case shell
        /// A package manager by its name, or its database (`var/lib/dpkg/status`, `lib/apk/db/installed`, ...).
        case packageManager
    }

    /// Relative to the root, without a leading `/`.
    public let path: String
    public let kind: Kind
    /// What matched: the name pattern, the mode, the folder.
    public let detail: String
}

/// What a layer's paths tell the audit by their names and modes: the same rules for a layer read from its archive and
/// from its folder on disk, so both give the same marks. No folder is left out: what the base image brings is told
/// apart by the audit (it is the base's own), not by where it lies.
public enum SecretRules {
    /// File names that hold secrets, matched on the last path component.
    static let secretNames: Set<String> = [
        ".env", ".netrc", ".npmrc", ".pypirc", ".pgpass", ".git-credentials", ".htpasswd", ".dockercfg",
        "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "credentials",
        "credentials.json", "secrets.json", "secrets.yaml", "secrets.yml", "terraform.tfstate", "wp-config.php",
    ]
    /// Name endings that hold keys. Not `.pem`: most are public certificates (a private key in one is found by what it
    /// holds).
    static let secretSuffixes = [".key", ".p12", ".pfx", ".jks", ".keystore", ".ppk", ".env", ".tfstate"]
    /// Endings of a secrets file's template, which holds none.
    static let templateSuffixes = [".example", ".sample", ".template", ".dist", ".tmpl"]
    /// Version control folders.
    static let versionControlFolders: Set<String> = [".git", ".svn", ".hg", ".bzr"]
    /// Programs that are a shell.
    static let shellNames: Set<String> = [
        "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "ksh93", "csh", "tcsh", "fish", "rbash", "busybox",
    ]
    /// Programs that install packages.
    static let packageManagerNames: Set<String> = [
        "apt", "apt-get", "aptitude", "dpkg", "dpkg-deb", "apk", "rpm", "yum", "dnf", "microdnf", "tdnf", "zypper",
        "pacman",
    ]
    /// Package managers' databases: files, and folders whose files count.
    static let packageDatabases: Set<String> = [
        "var/lib/dpkg/status", "lib/apk/db/installed", "var/lib/rpm/Packages", "var/lib/rpm/rpmdb.sqlite",
        "var/lib/rpm/Packages.db", "usr/lib/sysimage/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/Packages.db",
    ]

    /// The marks an entry gets from its path, kind and mode: setuid bits and secret names on regular files; shells
    /// and package managers on files one can run and on links (busybox's applets are links to it).
    static func marks(path: String, kind: LayerEntry.Kind, mode: UInt32) -> [LayerMark] {
        var marks: [LayerMark] = []
        let regular = kind == .file || kind == .hardLink
        guard regular || kind == .symbolicLink else { return marks }
        let name = Substring(path).split(separator: "/").last.map(String.init) ?? path
        if regular {
            if mode & 0o4000 != 0 { marks.append(LayerMark(path: path, kind: .setuid, detail: String(mode, radix: 8))) }
            if mode & 0o2000 != 0 { marks.append(LayerMark(path: path, kind: .setgid, detail: String(mode, radix: 8))) }
            if let pattern = secretName(name) {
                marks.append(LayerMark(path: path, kind: .secretName, detail: pattern))
            }
            if let folder = versionControlFolder(of: path) {
                marks.append(LayerMark(path: path, kind: .versionControl, detail: folder))
            }
            if packageDatabases.contains(path) {
                marks.append(LayerMark(path: path, kind: .packageManager, detail: name))
            }
        }
        // A program is a file one can run (or a link to one): `/etc/logrotate.d/apt` is no package manager.
        let runnable = kind == .symbolicLink || mode & 0o111 != 0
        if runnable, shellNames.contains(name) { marks.append(LayerMark(path: path, kind: .shell, detail: name)) }
        if runnable, packageManagerNames.contains(name) {
            marks.append(LayerMark(path: path, kind: .packageManager, detail: name))
        }
        return marks
    }

    /// The name pattern a file name is a secret's by (`id_rsa`, `*.pem`), or nil.
    static func secretName(_ name: String) -> String? {
        if templateSuffixes.contains(where: { name.hasSuffix($0) }) { return nil }
        if secretNames.contains(name) { return name }
        if name.hasPrefix(".env.") { return ".env.*" }
        return secretSuffixes.first { name.hasSuffix($0) && name.count > $0.count }.map { "*" + $0 }
    }

    /// The version control folder a path lies in (`app/.git`), or nil.
    static func versionControlFolder(of path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard let index = parts.dropLast().firstIndex(where: { versionControlFolders.contains(String($0)) }) else {
            return nil
        }
        return parts[...index].joined(separator: "/")
    }
}
