import Foundation
import HandsOnEngine
import HandsOnFormats
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A SHA-256 over what a folder holds, not when it was touched: every entry's relative path, kind, executable bit and
/// contents (a link's target, not what it points to), in path order. Copying a folder or saving a file unchanged keeps
/// the hash; any edit, new file, removal or rename changes it.
public enum FolderContentHash {
    /// The hash as 64 hex digits; a file that cannot be read counts by its name and the reason, so it still changes
    /// the hash when it becomes readable.
    /// - Parameter excluding: paths inside the folder left out, with all they hold.
    public static func of(_ directory: String, cache: FileDigestCache? = nil, excluding: Set<String> = []) -> String {
        var entries: [(path: String, line: String)] = []
        collect(directory, relative: "", cache: cache, excluding: excluding, into: &entries)
        var hasher = SHA256()
        for entry in entries.sorted(by: { $0.path < $1.path }) { hasher.update(Data((entry.line + "\n").utf8)) }
        return hasher.finalizeHex()
    }

    /// Every entry under `directory` but the `excluding` paths, which are neither read nor walked.
    private static func collect(
        _ directory: String, relative: String, cache: FileDigestCache?, excluding: Set<String>,
        into entries: inout [(path: String, line: String)]
    ) {
        guard let stream = opendir(directory) else { return }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let path = "\(directory)/\(name)"
            let key = relative.isEmpty ? name : "\(relative)/\(name)"
            if excluding.contains(key) { continue }
            var status = stat()
            guard lstat(path, &status) == 0 else { continue }
            switch status.st_mode & S_IFMT {
            case S_IFDIR:
                entries.append((key, "d \(key)"))
                collect(path, relative: key, cache: cache, excluding: excluding, into: &entries)
            case S_IFLNK:
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
                entries.append((key, "l \(key) -> \(target)"))
            case S_IFREG:
                let executable = status.st_mode & S_IXUSR != 0 ? "x" : "-"
                let digest = cache.map { $0.digest(of: path, status: status) } ?? SHA256.hex(ofFile: path)
                entries.append((key, "f\(executable) \(key) \(digest ?? "unreadable")"))
            default:
                entries.append((key, "o \(key)"))
            }
        }
    }
}

/// File digests remembered by path, inode, size and modification time, so hashing the same folders again and again (a
/// contest looked at every few seconds) reads only files that may have changed. A file rewritten with the same bytes
/// is read again and hashes the same.
public final class FileDigestCache: Sendable {
    private struct Identity: Hashable {
        let inode: UInt64
        let size: Int64
        let seconds: Int
        let nanoseconds: Int
    }
    private let known = Mutex<[String: (Identity, String)]>([:])

    public init() {}

    func digest(of path: String, status: stat) -> String? {
        let identity = Identity(
            inode: UInt64(status.st_ino), size: Int64(status.st_size),
            seconds: Int(status.st_mtim.tv_sec), nanoseconds: Int(status.st_mtim.tv_nsec))
        if let (seen, digest) = known.withLock({ $0[path] }), seen == identity { return digest }
        guard let digest = SHA256.hex(ofFile: path) else { return nil }
        known.withLock { $0[path] = (identity, digest) }
        return digest
    }
}
