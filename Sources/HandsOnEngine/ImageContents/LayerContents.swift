import Foundation
import HandsOnFormats

/// One entry of a layer as the overlay file system reads it.
struct LayerEntry: Sendable, Equatable {
    enum Kind: UInt8, Sendable {
        case file, directory, symbolicLink, hardLink, other
        /// `.wh.NAME`: NAME of the layers below is deleted.
        case whiteout
        /// `.wh..wh..opq`: what the layers below hold in this directory is hidden.
        case opaqueDirectory
    }

    /// Relative to the root, without `./`, a leading or a trailing `/`; for a whiteout, the path it deletes; for an
    /// opaque marker, its directory.
    let path: String
    let kind: Kind
    /// What overlay2 counts for it: a file's size, a symbolic link's target length, else 0.
    let bytes: Int64

    static let whiteoutPrefix = ".wh."
    static let opaqueMarker = ".wh..wh..opq"

    init(path: String, kind: Kind, bytes: Int64) {
        self.path = path
        self.kind = kind
        self.bytes = bytes
    }

    init(_ header: TarEntryHeader) {
        var path = Substring(header.path)
        while path.hasPrefix("./") { path = path.dropFirst(2) }
        while path.hasPrefix("/") { path = path.dropFirst() }
        while path.hasSuffix("/") { path = path.dropLast() }
        let slash = path.lastIndex(of: "/")
        let name = slash.map { path[path.index(after: $0)...] } ?? path
        let folder = slash.map { String(path[..<$0]) } ?? ""
        if name == Self.opaqueMarker {
            self.init(path: folder, kind: .opaqueDirectory, bytes: 0)
        } else if name.hasPrefix(Self.whiteoutPrefix) {
            let target = String(name.dropFirst(Self.whiteoutPrefix.count))
            self.init(path: folder.isEmpty ? target : "\(folder)/\(target)", kind: .whiteout, bytes: 0)
        } else {
            switch header.kind {
            case .file: self.init(path: String(path), kind: .file, bytes: header.size)
            case .other: self.init(path: String(path), kind: .other, bytes: header.size)
            case .symbolicLink:
                self.init(path: String(path), kind: .symbolicLink, bytes: Int64(header.linkTarget.utf8.count))
            case .hardLink: self.init(path: String(path), kind: .hardLink, bytes: 0)
            case .directory: self.init(path: String(path), kind: .directory, bytes: 0)
            case .characterDevice, .blockDevice, .fifo: self.init(path: String(path), kind: .other, bytes: 0)
            }
        }
    }
}

/// Reads one layer's entries the way Docker's overlay2 store counts a layer's diff folder: the size of every
/// non-directory file, a hard-linked file once, a symbolic link as the length of its target; directories, empty files,
/// devices and whiteouts (`.wh.NAME`, the opaque marker) count nothing. Keeps each entry (path, kind, bytes) for the
/// layer-by-layer analysis: memory grows with the number of files, never with their bytes.
struct LayerContentsReader: TarEntryConsumer {
    private(set) var fileBytes: Int64 = 0
    private(set) var entries: [LayerEntry] = []
    /// What the security audit notes from names and modes (`SecretRules`).
    private(set) var marks: [LayerMark] = []

    mutating func beginEntry(_ header: TarEntryHeader) throws {
        let entry = LayerEntry(header)
        fileBytes += entry.bytes
        entries.append(entry)
        marks += SecretRules.marks(path: entry.path, kind: entry.kind, mode: header.mode)
    }

    mutating func entryContent(_ bytes: UnsafeRawBufferPointer) throws {}

    mutating func endEntry() throws {}
}

/// Reads one layer blob as it streams: plain tar, or gzip-compressed tar decompressed on the way.
struct LayerStreamReader {
    enum Compression: String, Sendable, Codable { case none, gzip }

    let compression: Compression
    private var tar = TarStreamParser(consumer: LayerContentsReader())
    private let inflater: GzipInflater?
    private(set) var storedBytes: Int64 = 0

    init(compression: Compression) throws {
        self.compression = compression
        inflater = compression == .gzip ? try GzipInflater() : nil
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) throws {
        storedBytes += Int64(bytes.count)
        if let inflater {
            try inflater.feed(bytes) { try tar.feed($0) }
        } else {
            try tar.feed(bytes)
        }
    }

    func finish() throws -> LayerCount {
        try tar.finish()
        return LayerCount(
            fileBytes: tar.consumer.fileBytes, entries: tar.consumer.entries,
            storedBytes: storedBytes, compression: compression, marks: tar.consumer.marks)
    }
}

/// What one layer blob held.
struct LayerCount: Sendable, Equatable {
    let fileBytes: Int64
    let entries: [LayerEntry]
    /// Bytes of the blob as the archive holds it (compressed when `compression` is gzip).
    let storedBytes: Int64
    let compression: LayerStreamReader.Compression
    /// Setuid and setgid files and secrets found in the layer (`SecretRules`).
    var marks: [LayerMark] = []
}
