import Foundation

/// Counts one layer's bytes the way Docker's overlay2 store counts a layer's diff folder: the size of every
/// non-directory file, a hard-linked file once, a symbolic link as the length of its target; directories, empty files,
/// devices and whiteouts (`.wh.NAME`, the opaque marker) count nothing.
struct LayerFileCounter: TarEntryConsumer {
    private(set) var fileBytes: Int64 = 0
    private(set) var entryCount = 0

    mutating func beginEntry(_ header: TarEntryHeader) throws {
        entryCount += 1
        switch header.kind {
        case .file, .other:
            fileBytes += header.size
        case .symbolicLink:
            fileBytes += Int64(header.linkTarget.utf8.count)
        case .hardLink, .directory, .characterDevice, .blockDevice, .fifo:
            break
        }
    }

    mutating func entryContent(_ bytes: UnsafeRawBufferPointer) throws {}
    mutating func endEntry() throws {}
}

/// Reads one layer blob as it streams: plain tar, or gzip-compressed tar decompressed on the way.
struct LayerStreamReader {
    enum Compression: String, Sendable, Codable { case none, gzip }

    let compression: Compression
    private var tar = TarStreamParser(consumer: LayerFileCounter())
    private let inflater: GzipInflater?
    private(set) var storedBytes: Int64 = 0
    private(set) var uncompressedBytes: Int64 = 0

    init(compression: Compression) throws {
        self.compression = compression
        inflater = compression == .gzip ? try GzipInflater() : nil
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) throws {
        storedBytes += Int64(bytes.count)
        if let inflater {
            try inflater.feed(bytes) { chunk in
                uncompressedBytes += Int64(chunk.count)
                try tar.feed(chunk)
            }
        } else {
            uncompressedBytes += Int64(bytes.count)
            try tar.feed(bytes)
        }
    }

    func finish() throws -> LayerCount {
        try tar.finish()
        return LayerCount(fileBytes: tar.consumer.fileBytes, entryCount: tar.consumer.entryCount,
                          storedBytes: storedBytes, uncompressedBytes: uncompressedBytes, compression: compression)
    }
}

/// What one layer blob held.
struct LayerCount: Sendable, Equatable {
    let fileBytes: Int64
    let entryCount: Int
    /// Bytes of the blob as the archive holds it (compressed when `compression` is gzip).
    let storedBytes: Int64
    let uncompressedBytes: Int64
    let compression: LayerStreamReader.Compression
}
