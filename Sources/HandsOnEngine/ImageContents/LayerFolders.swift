import CSpawnSupport
import Foundation
import HandsOnFormats

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a layer the way it lies in an overlay store on this machine (Docker's overlay2, Podman's overlay): its diff
/// folder walked with `lstat`, no file's contents read. It counts what `LayerContentsReader` counts in the layer's tar
/// (a file's size, a hard-linked file once, a symbolic link's target length) and finds the same entries: overlayfs
/// marks a deleted path with a character device 0/0 of its name and an opaque directory with the
/// `trusted.overlay.opaque` (or `user.overlay.opaque`) attribute, where a tar has `.wh.NAME` and `.wh..wh..opq`.
/// Entries come in the order Docker writes a layer's tar (each folder's names sorted by their bytes).
enum LayerFolder {
    struct Unreadable: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "cannot read the layer folder \(path): \(reason)" }
    }

    static func count(_ folder: String) throws(Unreadable) -> LayerCount {
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Unreadable(path: folder, reason: String(cString: strerror(errno))) }
        var walk = Walk()
        try walk.folder(descriptor, path: folder, relative: "")
        return LayerCount(
            fileBytes: walk.fileBytes, entries: walk.entries, storedBytes: walk.fileBytes, compression: .none,
            marks: walk.marks)
    }

    /// Each folder is read through its open descriptor (`fdopendir`, `fstatat`, `openat`): the kernel does not walk
    /// the store's long path again for every entry beneath it.
    private struct Walk {
        var fileBytes: Int64 = 0
        var entries: [LayerEntry] = []
        var marks: [LayerMark] = []
        /// (device, inode) of the regular files with more than one link seen so far.
        var seenInodes = Set<[UInt64]>()

        /// Walks the open folder `descriptor` (closed when done) at `path`, `relative` to the layer's root.
        mutating func folder(_ descriptor: Int32, path: String, relative: String) throws(Unreadable) {
            guard let stream = fdopendir(descriptor) else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw Unreadable(path: path, reason: reason)
            }
            defer { closedir(stream) }
            var names: [String] = []
            while let entry = readdir(stream) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            for name in names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                let key = relative.isEmpty ? name : "\(relative)/\(name)"
                var status = stat()
                guard fstatat(descriptor, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else {
                    throw Unreadable(path: "\(path)/\(name)", reason: String(cString: strerror(errno)))
                }
                switch status.st_mode & S_IFMT {
                case S_IFDIR:
                    let child = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    guard child >= 0 else {
                        throw Unreadable(path: "\(path)/\(name)", reason: String(cString: strerror(errno)))
                    }
                    entries.append(LayerEntry(path: key, kind: .directory, bytes: 0))
                    if Self.isOpaque(child) { entries.append(LayerEntry(path: key, kind: .opaqueDirectory, bytes: 0)) }
                    try folder(child, path: "\(path)/\(name)", relative: key)
                case S_IFREG:
                    if status.st_nlink > 1, !seenInodes.insert([UInt64(status.st_dev), UInt64(status.st_ino)]).inserted
                    {
                        entries.append(LayerEntry(path: key, kind: .hardLink, bytes: 0))
                    } else {
                        fileBytes += Int64(status.st_size)
                        entries.append(LayerEntry(path: key, kind: .file, bytes: Int64(status.st_size)))
                    }
                    marks += SecretRules.marks(
                        path: key, kind: entries[entries.count - 1].kind, mode: UInt32(status.st_mode) & 0o7777)
                case S_IFLNK:
                    fileBytes += Int64(status.st_size)
                    entries.append(LayerEntry(path: key, kind: .symbolicLink, bytes: Int64(status.st_size)))
                    marks += SecretRules.marks(path: key, kind: .symbolicLink, mode: 0)
                case S_IFCHR where status.st_rdev == 0:
                    entries.append(LayerEntry(path: key, kind: .whiteout, bytes: 0))
                default:
                    entries.append(LayerEntry(path: key, kind: .other, bytes: 0))
                }
            }
        }

        static func isOpaque(_ descriptor: Int32) -> Bool {
            ["trusted.overlay.opaque", "user.overlay.opaque"].contains { attribute in
                var value: UInt8 = 0
                return handson_fgetxattr(descriptor, attribute, &value, 1) == 1 && value == UInt8(ascii: "y")
            }
        }
    }
}

/// Where an image's layers lie in the engine's store on this machine, as `image inspect` tells (`GraphDriver`), and
/// the image's config beside them: enough to measure it without `image save`. Nil where the layers are not reachable
/// (a remote engine, a store HandsOn cannot read), and the archive is read instead. The containerd store's snapshots
/// are found by `ContainerdLayers`.
package struct LayersOnDisk: Sendable {
    /// The layers' diff folders, lowest first.
    let folders: [String]
    let config: ImageConfig

    /// All a measurement depends on: the layers (their diff ids are digests of their contents) and the history that
    /// names their instructions. Labels, tags and the image id are not in it.
    var contentKey: String {
        let history = (config.history ?? []).map { entry in
            "\(entry.createdBy ?? "")\u{1}\(entry.comment ?? "")\u{1}\(entry.emptyLayer == true)"
        }
        return (config.rootfs?.diffIDs ?? []).joined(separator: ",") + "\u{2}" + history.joined(separator: "\u{2}")
    }

    /// The inspect format that gives, on one line, the id, the graph driver, the layers' diff ids, the tags and
    /// (Podman) the history: what `InspectedImage(inspectLine:)` reads.
    package static func inspectFormat(for kind: EngineKind) -> String {
        "{{.Id}}\t{{json .GraphDriver}}\t{{json .RootFS.Layers}}\t{{json .RepoTags}}"
            + (kind == .podman ? "\t{{json .History}}" : "")
    }

    /// The base candidates among `images` (each an image the engine has), by their tags, with their layers.
    static func bases(images: some Sequence<InspectedImage>, among candidates: [String]) -> [(
        name: String, diffIDs: [String]
    )] {
        images.compactMap { image in
            // An image without tags or layers is no one's base.
            guard let layers = image.layers, let tags = image.repoTags else { return nil }
            let names = Set(tags.map(ImageReference.init))
            return candidates.first { names.contains(ImageReference($0)) }.map { ($0, layers) }
        }
    }

    struct GraphDriver: Decodable, Sendable {
        let name: String?
        let data: [String: String]?

        enum CodingKeys: String, CodingKey {
            case name = "Name"
            case data = "Data"
        }
    }

    /// The image's layers on disk, when the engine is on this machine and keeps them in an overlay store HandsOn can
    /// read. The history comes from the inspection (Podman) or Docker's image store.
    static func locate(_ image: InspectedImage, isLocal: Bool) -> LayersOnDisk? {
        guard isLocal, let driver = image.graphDriver, ["overlay2", "overlay"].contains(driver.name ?? ""),
            let upper = driver.data?["UpperDir"], let diffIDs = image.layers
        else { return nil }
        // LowerDir lists the layers below, the nearest first.
        let lower = (driver.data?["LowerDir"] ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
        let folders = lower.reversed() + [upper]
        guard folders.count == diffIDs.count, folders.allSatisfy({ access($0, R_OK | X_OK) == 0 }) else {
            return nil
        }
        let history = image.history ?? dockerHistory(id: image.id, upperDir: upper)
        let config = ImageConfig(history: history, rootfs: ImageConfig.RootFS(diffIDs: diffIDs))
        return LayersOnDisk(folders: folders, config: config)
    }

    /// The layers' diff ids when the image is in Docker's containerd store (driver `overlayfs`, no folders named).
    static func containerdSnapshotterLayers(_ image: InspectedImage) -> [String]? {
        guard let driver = image.graphDriver, driver.name == "overlayfs", driver.data?["UpperDir"] == nil else {
            return nil
        }
        return image.layers
    }

    /// Docker keeps an image's config under its data root: `<root>/image/overlay2/imagedb/content/sha256/<id>`.
    static func dockerHistory(id: String, upperDir: String) -> [ImageConfig.HistoryEntry]? {
        guard let range = upperDir.range(of: "/overlay2/") else { return nil }
        let root = upperDir[..<range.lowerBound]
        let hex = id.hasPrefix("sha256:") ? String(id.dropFirst(7)) : id
        guard let data = FileManager.default.contents(atPath: "\(root)/image/overlay2/imagedb/content/sha256/\(hex)"),
            let config = try? JSONDecoder().decode(ImageConfig.self, from: data)
        else { return nil }
        return config.history
    }

    /// The image as `ImageSizeMeasurement` reads it, each layer walked on disk (or remembered from before).
    func read(known: KnownLayers) throws(LayerFolder.Unreadable) -> ArchivedImage {
        var layers: [ArchivedLayer] = []
        for (folder, diffID) in zip(folders, config.rootfs?.diffIDs ?? []) {
            let count: LayerCount
            if let remembered = known.count(forDiffID: diffID) {
                count = remembered
            } else {
                count = try LayerFolder.count(folder)
            }
            known.remember(count, forDiffID: diffID)
            layers.append(ArchivedLayer(entry: diffID, count: count))
        }
        return ArchivedImage(layers: layers, config: config)
    }
}
