import Foundation
import HandsOnFormats
import HandsOnMessages
import Synchronization

/// Why an image archive (`docker image save`, `podman save`) could not be measured.
public enum ImageArchiveError: Equatable, MessageError {
    /// The reasons are the sentences of the errors beneath (a tar stream's, gzip's, JSON's), shown in the reader's
    /// language where they have one.
    case unreadable(Message)
    case noManifest
    case badManifest(file: String, reason: Message)
    case missingLayer(String)
    case unsupportedCompression(entry: String, kind: String)
    case layer(entry: String, reason: Message)

    public var message: Message {
        switch self {
        case .unreadable(let reason): return Message(.error.archive.unreadable, parts: ["reason": reason])
        case .noManifest: return Message(.error.archive.noManifest)
        case .badManifest(let file, let reason):
            return Message(.error.archive.badManifest, ["file": file], parts: ["reason": reason])
        case .missingLayer(let name): return Message(.error.archive.missingLayer, ["name": "\(name)"])
        case .unsupportedCompression(let entry, let kind):
            return Message(.error.archive.unsupportedCompression, ["entry": "\(entry)", "kind": "\(kind)"])
        case .layer(let entry, let reason):
            return Message(.error.archive.layer, ["entry": entry], parts: ["reason": reason])
        }
    }
}

/// Reads an image archive as it streams, in one pass: every layer blob is counted on the way (decompressed if it is
/// gzip), small JSON files are kept, and at the end the manifest says which blobs are the image's layers, in order.
/// Knows Docker's archive (`manifest.json`, with `<id>/layer.tar` or OCI `blobs/sha256/...`), Podman's
/// (`<digest>.tar`), and a bare OCI layout (`index.json`).
struct ImageArchiveReader {
    /// Files kept whole to read the manifest and configs from; larger ones are not JSON metadata.
    static var metadataLimit: Int { 16 << 20 }

    private var outer: TarStreamParser<ArchiveEntries>

    /// - Parameter known: layers read before, whose bytes need not be read again.
    init(known: KnownLayers = KnownLayers(limit: 64)) {
        outer = TarStreamParser(consumer: ArchiveEntries(known: known))
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) throws { try outer.feed(bytes) }

    /// Ends the stream and resolves the layers of the image, and its config; `reference` picks one image when the
    /// archive holds several.
    func finish(reference: String? = nil) throws -> ArchivedImage {
        do { try outer.finish() } catch { throw ImageArchiveError.unreadable(Message(describing: error)) }
        return try ImageArchiveLayout(entries: outer.consumer).image(for: reference)
    }
}

/// An image as its archive holds it: its layers from the lowest, and its config (history, layer digests).
struct ArchivedImage {
    let layers: [ArchivedLayer]
    let config: ImageConfig?
}

/// The parts of an image's config the analysis reads.
struct ImageConfig: Decodable, Sendable {
    struct HistoryEntry: Decodable, Sendable {
        let createdBy: String?
        let comment: String?
        let emptyLayer: Bool?

        enum CodingKeys: String, CodingKey {
            case createdBy = "created_by"
            case comment
            case emptyLayer = "empty_layer"
        }
    }

    struct RootFS: Decodable, Sendable {
        let diffIDs: [String]?

        enum CodingKeys: String, CodingKey { case diffIDs = "diff_ids" }
    }

    let history: [HistoryEntry]?
    let rootfs: RootFS?
}

/// One of the image's layers as the archive holds it.
struct ArchivedLayer: Sendable, Equatable {
    let entry: String
    let count: LayerCount
}

/// The outer archive's entries: layer blobs counted, metadata kept.
struct ArchiveEntries: TarEntryConsumer {
    private(set) var layers: [String: LayerCount] = [:]
    private(set) var metadata: [String: [UInt8]] = [:]
    private(set) var problems: [String: ImageArchiveError] = [:]
    let known: KnownLayers

    init(known: KnownLayers) { self.known = known }

    private enum Current {
        case none
        /// The first bytes of an entry whose kind is not yet known.
        case sniffing(path: String, size: Int64, bytes: [UInt8])
        case layer(path: String, reader: LayerStreamReader)
        /// A content-addressed layer already read in this process: its bytes pass unread.
        case known(path: String, count: LayerCount)
        case metadata(path: String, bytes: [UInt8])
        case skipping
    }

    private var current = Current.none

    mutating func beginEntry(_ header: TarEntryHeader) throws {
        guard header.kind == .file, header.size > 0 else {
            current = .skipping
            return
        }
        let path = Self.normalized(header.path)
        let name = (path as NSString).lastPathComponent
        if let known = known.count(for: path) {
            current = .known(path: path, count: known)
        } else if name.hasSuffix(".json") || name == "repositories" || name == "oci-layout" || name == "json"
            || name == "VERSION"
        {
            current =
                header.size <= Int64(ImageArchiveReader.metadataLimit) ? .metadata(path: path, bytes: []) : .skipping
        } else {
            current = .sniffing(path: path, size: header.size, bytes: [])
        }
    }

    mutating func entryContent(_ bytes: UnsafeRawBufferPointer) throws {
        switch current {
        case .none, .skipping, .known:
            return
        case .metadata(let path, var kept):
            current = .skipping  // the enum lets go of the array, so appending does not copy it
            kept.append(contentsOf: bytes)
            current = .metadata(path: path, bytes: kept)
        case .layer(let path, var reader):
            current = .skipping
            do {
                try reader.feed(bytes)
                current = .layer(path: path, reader: reader)
            } catch {
                problems[path] = .layer(entry: path, reason: Message(describing: error))
            }
        case .sniffing(let path, let size, var kept):
            current = .skipping
            kept.append(contentsOf: bytes)
            if kept.count >= 512 || Int64(kept.count) >= size {
                try classify(path: path, size: size, firstBytes: kept)
            } else {
                current = .sniffing(path: path, size: size, bytes: kept)
            }
        }
    }

    mutating func endEntry() throws {
        switch current {
        case .metadata(let path, let bytes):
            metadata[path] = bytes
        case .layer(let path, let reader):
            finishLayer(path, reader)
        case .known(let path, let count):
            layers[path] = count
        case .sniffing(let path, let size, let kept):
            current = .skipping
            try classify(path: path, size: size, firstBytes: kept)
            if case .layer(let path, let reader) = current {
                finishLayer(path, reader)
            } else if case .metadata(let path, let bytes) = current {
                metadata[path] = bytes
            }
        case .none, .skipping:
            break
        }
        current = .none
    }

    private mutating func finishLayer(_ path: String, _ reader: LayerStreamReader) {
        do {
            let count = try reader.finish()
            layers[path] = count
            known.remember(count, for: path)
        } catch {
            problems[path] = .layer(entry: path, reason: Message(describing: error))
        }
    }

    /// Decides from an entry's first bytes what it is, and replays them into its reader.
    private mutating func classify(path: String, size: Int64, firstBytes: [UInt8]) throws {
        let compression: LayerStreamReader.Compression
        if firstBytes.starts(with: [0x1f, 0x8b]) {
            compression = .gzip
        } else if firstBytes.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) {
            problems[path] = .unsupportedCompression(entry: path, kind: "zstd")
            current = .skipping
            return
        } else if firstBytes.count >= 263 && firstBytes[257..<262].elementsEqual("ustar".utf8)
            || firstBytes.count >= 512 && firstBytes.allSatisfy({ $0 == 0 })
        {
            compression = .none
        } else if size <= Int64(ImageArchiveReader.metadataLimit) {
            current = .metadata(path: path, bytes: firstBytes)
            return
        } else {
            current = .skipping
            return
        }
        var reader = try LayerStreamReader(compression: compression)
        do {
            try firstBytes.withUnsafeBytes { try reader.feed($0) }
            current = .layer(path: path, reader: reader)
        } catch {
            problems[path] = .layer(entry: path, reason: Message(describing: error))
            current = .skipping
        }
    }

    static func normalized(_ path: String) -> String {
        path.hasPrefix("./") ? String(path.dropFirst(2)) : path
    }
}

/// Which blobs are the image's layers, from `manifest.json` (Docker and Podman archives) or `index.json` (OCI).
struct ImageArchiveLayout {
    let entries: ArchiveEntries

    struct DockerManifestEntry: Decodable {
        let config: String?
        let repoTags: [String]?
        let layers: [String]

        enum CodingKeys: String, CodingKey {
            case config = "Config"
            case repoTags = "RepoTags"
            case layers = "Layers"
        }
    }

    func image(for reference: String?) throws -> ArchivedImage {
        let paths = try Self.paths(metadata: entries.metadata, reference: reference)
        let layers = try paths.layers.map { path in
            let path = ArchiveEntries.normalized(path)
            if let problem = entries.problems[path] { throw problem }
            guard let count = entries.layers[path] else { throw ImageArchiveError.missingLayer(path) }
            return ArchivedLayer(entry: path, count: count)
        }
        // A config that cannot be read costs the instructions beside each layer, not the measurement.
        let config = paths.config.flatMap { entries.metadata[ArchiveEntries.normalized($0)] }
            .flatMap { try? JSONDecoder().decode(ImageConfig.self, from: Data($0)) }
        return ArchivedImage(layers: layers, config: config)
    }

    /// The archive paths of the image's layers, lowest first, and of its config, from the archive's small files.
    static func paths(metadata: [String: [UInt8]], reference: String?) throws -> (layers: [String], config: String?) {
        if let manifest = metadata["manifest.json"] { return try dockerLayerPaths(manifest, reference: reference) }
        if let index = metadata["index.json"] { return try ociLayerPaths(index, metadata: metadata) }
        throw ImageArchiveError.noManifest
    }

    private static func dockerLayerPaths(_ bytes: [UInt8], reference: String?) throws -> (
        layers: [String], config: String?
    ) {
        let images: [DockerManifestEntry]
        do { images = try JSONDecoder().decode([DockerManifestEntry].self, from: Data(bytes)) } catch {
            throw ImageArchiveError.badManifest(file: "manifest.json", reason: Message(describing: error))
        }
        let wanted = reference.map(ImageReference.init)
        let chosen =
            images.first { entry in
                guard let wanted else { return false }
                return (entry.repoTags ?? []).contains { ImageReference($0) == wanted }
            } ?? images.first
        guard let chosen else {
            throw ImageArchiveError.badManifest(file: "manifest.json", reason: Message(.error.archive.listsNoImage))
        }
        return (chosen.layers, chosen.config)
    }

    private static func ociLayerPaths(_ bytes: [UInt8], metadata: [String: [UInt8]]) throws -> (
        layers: [String], config: String?
    ) {
        let manifest = try OCILayout.manifest(from: bytes, file: "index.json") { metadata[OCILayout.blobPath($0)] }
        return (
            (manifest.layers ?? []).map { OCILayout.blobPath($0.digest) },
            manifest.config.map { OCILayout.blobPath($0.digest) }
        )
    }
}

/// Layers already read in this process, by their content-addressed name in the archive (`blobs/sha256/<digest>`,
/// the sha256 of the blob; Podman's `<digest>.tar`): a batch grading many answers on one base image reads (and
/// inflates) the base's layers once, and only passes over their bytes after that. Bounded: the oldest are dropped.
/// Given a folder, the counts of large layers by diff id are kept there for the next process too.
final class KnownLayers: Sendable {
    private struct State {
        var counts: [String: LayerCount] = [:]
        var order: [String] = []
    }
    private let state = Mutex(State())
    private let limit: Int
    private let folder: LayerCountFolder?

    init(limit: Int, folder: LayerCountFolder? = nil) {
        self.limit = limit
        self.folder = folder
    }

    /// The name that identifies a blob by its content, or nil for names that do not (`<id>/layer.tar`).
    static func contentAddress(_ path: String) -> String? {
        let name = (path as NSString).lastPathComponent
        let digest = name.hasSuffix(".tar") ? String(name.dropLast(4)) : name
        guard digest.count == 64, digest.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        guard path.hasPrefix("blobs/sha256/") || !path.contains("/") else { return nil }
        return "sha256:" + digest
    }

    func count(for path: String) -> LayerCount? {
        guard let key = Self.contentAddress(path) else { return nil }
        return state.withLock { $0.counts[key] }
    }

    func remember(_ count: LayerCount, for path: String) {
        guard let key = Self.contentAddress(path) else { return }
        remember(count, key: key)
    }

    /// A layer by its diff id (the digest of its uncompressed tar, `rootfs.diff_ids`): the same on every engine and
    /// store, so an image whose layers are all known is measured without reading any of them.
    func count(forDiffID diffID: String) -> LayerCount? {
        if let known = state.withLock({ $0.counts["diff:" + diffID] }) { return known }
        guard let folder, let kept = folder.count(forDiffID: diffID) else { return nil }
        remember(kept, key: "diff:" + diffID)
        return kept
    }

    /// Remembers a count by diff id; one this process had not met is also kept in the folder (when it is large).
    func remember(_ count: LayerCount, forDiffID diffID: String) {
        guard diffID.hasPrefix("sha256:") else { return }
        if remember(count, key: "diff:" + diffID) { folder?.keep(count, forDiffID: diffID) }
    }

    /// True when the key was not remembered before.
    @discardableResult
    private func remember(_ count: LayerCount, key: String) -> Bool {
        state.withLock { state in
            let isNew = state.counts.updateValue(count, forKey: key) == nil
            if isNew { state.order.append(key) }
            while state.order.count > limit { state.counts[state.order.removeFirst()] = nil }
            return isNew
        }
    }
}
