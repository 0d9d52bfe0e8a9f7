import Foundation
import Synchronization

/// Writes directories, files and links into a root file system being assembled (for stand-in images).
struct RootFileSystemWriter {
    let root: String

    func directory(_ path: String, mode: mode_t = 0o755, owner: uid_t? = nil) throws {
        let full = "\(root)/\(path)"
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        chmod(full, mode)
        if let owner { chown(full, owner, owner) }
    }

    func text(_ path: String, _ contents: String, mode: mode_t = 0o644) throws {
        try directory((path as NSString).deletingLastPathComponent)
        let full = "\(root)/\(path)"
        try Data(contents.utf8).write(to: URL(fileURLWithPath: full))
        chmod(full, mode)
    }

    func symlink(_ path: String, to target: String) throws {
        try? FileManager.default.removeItem(atPath: "\(root)/\(path)")
        try FileManager.default.createSymbolicLink(atPath: "\(root)/\(path)", withDestinationPath: target)
    }
}

/// The files a Debian package installed, from dpkg's list, with merged-/usr paths made canonical
/// (`/lib/x86_64-linux-gnu/libc.so.6` becomes `usr/lib/x86_64-linux-gnu/libc.so.6`).
enum PackageFileList {
    static func regularFiles(of package: String, in root: String) throws -> [String] {
        let infoDirectory = "\(root)/var/lib/dpkg/info"
        let names = try FileManager.default.contentsOfDirectory(atPath: infoDirectory)
        guard
            let listName = names.first(where: {
                $0 == "\(package).list" || ($0.hasPrefix("\(package):") && $0.hasSuffix(".list"))
            })
        else {
            throw LabError.packageMissing(package: package, root: root)
        }
        let listing = try String(contentsOfFile: "\(infoDirectory)/\(listName)", encoding: .utf8)
        var paths: [String] = []
        for line in listing.split(separator: "\n") {
            let path = canonical(String(line.dropFirst()), in: root)
            guard !path.isEmpty, !path.hasPrefix("usr/share/doc"), !path.hasPrefix("usr/share/lintian") else {
                continue
            }
            var info = stat()
            guard lstat("\(root)/\(path)", &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR else { continue }
            paths.append(path)
        }
        return paths
    }

    static func canonical(_ path: String, in root: String) -> String {
        guard let first = path.split(separator: "/").first else { return path }
        if ["bin", "sbin", "lib", "lib64", "lib32", "libx32"].contains(String(first)),
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(root)/\(first)")) != nil
        {
            return "usr/" + path
        }
        return path
    }
}

/// Splits a byte stream into lines as chunks arrive.
final class LineSplitter: Sendable {
    private let buffer = Mutex(Data())

    func feed(_ chunk: Data) -> [String] {
        buffer.withLock { pending in
            pending.append(chunk)
            var lines: [String] = []
            while let newline = pending.firstIndex(where: { $0 == 10 || $0 == 13 }) {
                lines.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                pending.removeSubrange(pending.startIndex...newline)
            }
            return lines.filter { !$0.isEmpty }
        }
    }
}
