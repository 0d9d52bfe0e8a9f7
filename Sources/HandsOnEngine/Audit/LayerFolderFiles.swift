import CSpawnSupport
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An image's layers as folders on this machine (overlay2, Podman's overlay, the containerd store's snapshots), read
/// for the audit: every file of a layer scanned, a file of the final file system read, and whether a path a layer holds
/// is still there at the top or the base image's own.
struct LayerFolderFiles: Sendable {
    /// The layers' folders, lowest first.
    let folders: [String]

    /// Every regular file of layer `index` (from 0) scanned for what it holds.
    func scan(layer index: Int, with scanner: FileContentScanner) -> [ContentFinding] {
        var found: [ContentFinding] = []
        walk(folders[index], relative: "") { fullPath, relative in
            found += scanner.scanFile(at: fullPath, path: relative)
        }
        return found
    }

    /// Calls `body` for each regular file beneath `folder`, with its full path and its path relative to the layer.
    private func walk(_ folder: String, relative: String, _ body: (String, String) -> Void) {
        guard let stream = opendir(folder) else { return }
        var children: [(name: String, type: UInt8)] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { children.append((name, entry.pointee.d_type)) }
        }
        closedir(stream)
        for child in children.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
            let full = "\(folder)/\(child.name)"
            let path = relative.isEmpty ? child.name : "\(relative)/\(child.name)"
            var type = child.type
            if type == UInt8(DT_UNKNOWN) {
                var status = stat()
                guard lstat(full, &status) == 0 else { continue }
                type = UInt8(truncatingIfNeeded: (status.st_mode & S_IFMT) >> 12)
            }
            if type == UInt8(DT_DIR) {
                walk(full, relative: path, body)
            } else if type == UInt8(DT_REG) {
                body(full, path)
            }
        }
    }

    /// What a layer folder holds at `path`.
    enum Presence { case absent, file, whiteout, other }

    func presence(of path: String, in folder: String) -> Presence {
        var status = stat()
        guard lstat("\(folder)/\(path)", &status) == 0 else { return .absent }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFCHR where status.st_rdev == 0: return .whiteout
        default: return .other
        }
    }

    /// Whether a layer above `layer` (from 0) replaces or deletes `path` or a folder it lies in.
    func isHidden(_ path: String, above layer: Int) -> Bool {
        let parts = path.split(separator: "/").map(String.init)
        for folder in folders.dropFirst(layer + 1) {
            if presence(of: path, in: folder) != .absent { return true }
            for end in parts.indices.dropLast() {
                let parent = parts[...end].joined(separator: "/")
                if presence(of: parent, in: folder) == .whiteout { return true }
            }
        }
        return false
    }

    /// The bytes of `path` in the file system the layers up to `top` (from 0) make; nil when none holds it.
    func file(_ path: String, upTo top: Int) -> [UInt8]? {
        for folder in folders.prefix(top + 1).reversed() {
            switch presence(of: path, in: folder) {
            case .file:
                return FileManager.default.contents(atPath: "\(folder)/\(path)").map { [UInt8]($0) }
            case .whiteout, .other: return nil
            case .absent: continue
            }
        }
        return nil
    }

    /// Whether the file `path` of layer `layer` is the same, byte for byte, as what the base's layers (the lowest
    /// `baseLayers`) hold there: the base image's own file, copied up (a `chmod -R`, say), not the answer's.
    func isBaseOwn(_ path: String, layer: Int, baseLayers: Int) -> Bool {
        guard baseLayers > 0, layer >= baseLayers else { return layer < baseLayers }
        guard let base = file(path, upTo: baseLayers - 1) else { return false }
        var status = stat()
        guard lstat("\(folders[layer])/\(path)", &status) == 0, Int(status.st_size) == base.count else { return false }
        return FileManager.default.contents(atPath: "\(folders[layer])/\(path)").map { [UInt8]($0) == base } ?? false
    }
}
