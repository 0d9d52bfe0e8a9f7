import Foundation
import HandsOnFormats

#if canImport(Glibc)
    import Glibc
#endif

/// Where Docker's containerd image store keeps an image's layers on this machine. Each layer of an image is unpacked
/// as a committed snapshot named by its chain id in containerd's metadata (`v1/<namespace>/snapshots/overlayfs/<chain
/// id>`, whose `name` is the snapshotter's own key); the overlayfs snapshotter's metadata gives that key's number, and
/// `snapshots/<number>/fs` holds the layer's files, marked as overlayfs marks them (so `LayerFolder` reads them as it
/// reads overlay2's). The image's history is in its config, in containerd's content store. Both metadata files are
/// bbolt databases, read with `BoltFile`.
enum ContainerdLayers {
    /// The containerd roots a daemon with data root `dataRoot` may use: the containerd it starts itself
    /// (`<data root>/containerd/daemon`), else the machine's (`/var/lib/containerd`).
    static func roots(dataRoot: String?) -> [String] {
        (dataRoot.map { ["\($0)/containerd/daemon"] } ?? []) + ["/var/lib/containerd"]
    }

    /// The image's layers and config, when every layer's snapshot folder is found and readable; nil otherwise (the
    /// archive is read then).
    static func locate(imageID: String, diffIDs: [String], dataRoot: String?, namespace: String = "moby")
        -> LayersOnDisk?
    {
        guard !diffIDs.isEmpty else { return nil }
        for root in roots(dataRoot: dataRoot) {
            let metadata = "\(root)/io.containerd.metadata.v1.bolt/meta.db"
            let snapshotter = "\(root)/io.containerd.snapshotter.v1.overlayfs"
            guard access(metadata, R_OK) == 0, access("\(snapshotter)/metadata.db", R_OK) == 0 else { continue }
            guard
                let folders = try? snapshotFolders(
                    chainIDs: chainIDs(diffIDs), metadata: metadata, snapshotter: snapshotter, namespace: namespace),
                let config = imageConfig(imageID, contentStore: "\(root)/io.containerd.content.v1.content"),
                config.rootfs?.diffIDs == diffIDs
            else { continue }
            return LayersOnDisk(folders: folders, config: config)
        }
        return nil
    }

    /// The chain ids of a stack of layers: the first layer's diff id, then `sha256(<chain below> + " " + <diff id>)`.
    static func chainIDs(_ diffIDs: [String]) -> [String] {
        var chain: [String] = []
        for diffID in diffIDs {
            guard let below = chain.last else {
                chain.append(diffID)
                continue
            }
            chain.append("sha256:" + SHA256.hex(Data("\(below) \(diffID)".utf8)))
        }
        return chain
    }

    /// Each chain id's snapshot folder, lowest first; nil when one is missing or unreadable.
    static func snapshotFolders(chainIDs: [String], metadata: String, snapshotter: String, namespace: String)
        throws(BoltFile.Malformed) -> [String]?
    {
        let names = try BoltFile(path: metadata)
        let numbers = try BoltFile(path: "\(snapshotter)/metadata.db")
        var folders: [String] = []
        for chainID in chainIDs {
            guard
                case .bytes(let key)? = try names.lookUp(["v1", namespace, "snapshots", "overlayfs", chainID, "name"]),
                case .bytes(let number)? = try numbers.lookUp([
                    "v1", "snapshots", String(decoding: key, as: UTF8.self), "id",
                ]),
                let id = BoltFile.uvarint(number)
            else { return nil }
            let folder = "\(snapshotter)/snapshots/\(id)/fs"
            guard access(folder, R_OK | X_OK) == 0 else { return nil }
            folders.append(folder)
        }
        return folders
    }

    /// The image's config from the content store (an OCI layout's blobs): the blob named by the image id is a
    /// manifest, or an index followed as an archive's is (`OCILayout`).
    static func imageConfig(_ imageID: String, contentStore: String) -> ImageConfig? {
        func blob(_ digest: String) -> [UInt8]? {
            let parts = digest.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0] == "sha256", parts[1].allSatisfy(\.isHexDigit) else { return nil }
            return FileManager.default.contents(atPath: "\(contentStore)/\(OCILayout.blobPath(digest))").map(Array.init)
        }
        guard let top = blob(imageID),
            let manifest = try? OCILayout.manifest(from: top, file: imageID, blob: blob),
            let config = manifest.config.flatMap({ blob($0.digest) })
        else { return nil }
        return try? JSONDecoder().decode(ImageConfig.self, from: Data(config))
    }
}
