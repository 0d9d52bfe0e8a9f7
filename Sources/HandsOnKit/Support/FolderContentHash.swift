import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A SHA-256 over what a folder holds, not when it was touched: every entry's relative path, kind, executable bit and
/// contents (a link's target, not what it points to), in path order. Copying a folder or saving a file unchanged keeps
/// the hash; any edit, new file, removal or rename changes it.
public enum FolderContentHash {
    /// The hash as 64 hex digits; a file that cannot be read counts by its name and the reason, so it still changes
    /// the hash when it becomes readable.
    public static func of(_ directory: String) -> String {
        var entries: [(path: String, line: String)] = []
        collect(directory, relative: "", into: &entries)
        var hasher = SHA256()
        for entry in entries.sorted(by: { $0.path < $1.path }) { hasher.update(Data((entry.line + "\n").utf8)) }
        return hasher.finalizeHex()
    }

    private static func collect(_ directory: String, relative: String, into entries: inout [(path: String, line: String)]) {
        guard let stream = opendir(directory) else { return }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            let path = "\(directory)/\(name)"
            let key = relative.isEmpty ? name : "\(relative)/\(name)"
            var status = stat()
            guard lstat(path, &status) == 0 else { continue }
            switch status.st_mode & S_IFMT {
            case S_IFDIR:
                entries.append((key, "d \(key)"))
                collect(path, relative: key, into: &entries)
            case S_IFLNK:
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
                entries.append((key, "l \(key) -> \(target)"))
            case S_IFREG:
                let executable = status.st_mode & S_IXUSR != 0 ? "x" : "-"
                entries.append((key, "f\(executable) \(key) \(SHA256.hex(ofFile: path) ?? "unreadable")"))
            default:
                entries.append((key, "o \(key)"))
            }
        }
    }
}
