import Foundation
import HandsOnFormats
import Synchronization

/// What one layer blob of an image archive holds for the audit: what each path is, what its files hold, and the bytes
/// of the files asked for (`/etc/passwd`, and in a second pass the files to compare with the base's).
struct LayerBlobAudit: Sendable {
    var presence: [String: LayerFolderFiles.Presence] = [:]
    var findings: [ContentFinding] = []
    var kept: [String: [UInt8]] = [:]
}

/// Reads one layer's tar for the audit (`scans`: its files' contents too), keeping the bytes of `keep`'s paths.
struct LayerFileAudit: TarEntryConsumer {
    let scanner: FileContentScanner
    let scans: Bool
    let keep: Set<String>
    var result = LayerBlobAudit()
    private var current: (path: String, bytes: [UInt8], pieces: PieceScan?)?

    init(scanner: FileContentScanner, scans: Bool, keep: Set<String>) {
        self.scanner = scanner
        self.scans = scans
        self.keep = keep
    }

    mutating func beginEntry(_ header: TarEntryHeader) throws {
        let entry = LayerEntry(header)
        switch entry.kind {
        case .whiteout: result.presence[entry.path] = .whiteout
        case .file: result.presence[entry.path] = .file
        case .hardLink:
            // Another name for a file of this layer: what it holds is that file's.
            result.presence[entry.path] = .file
            let target = LayerEntry(TarEntryHeader(path: header.linkTarget, kind: .file, size: 0, linkTarget: "")).path
            result.findings += result.findings.filter { $0.path == target || $0.path.hasPrefix(target + "!") }.map {
                var copy = $0
                copy.path = entry.path + $0.path.dropFirst(target.count)
                return copy
            }
            if keep.contains(entry.path), let bytes = result.kept[target] { result.kept[entry.path] = bytes }
        case .opaqueDirectory: break
        default: result.presence[entry.path] = .other
        }
        guard entry.kind == .file, scans || keep.contains(entry.path) else { return }
        // A file too large to hold whole is read in pieces, as on disk (unless its bytes are to be kept).
        let large = scans && header.size > Int64(FileContentScanner.wholeFileLimit) && !keep.contains(entry.path)
        current = (entry.path, [], large ? PieceScan(path: entry.path) : nil)
    }

    mutating func entryContent(_ bytes: UnsafeRawBufferPointer) throws {
        guard current != nil else { return }
        current!.bytes.append(contentsOf: bytes)
        guard current!.pieces != nil, current!.bytes.count >= PieceScan.piece + PieceScan.overlap else { return }
        let window = current!.bytes.prefix(PieceScan.piece + PieceScan.overlap)
        Array(window).withUnsafeBytes { current!.pieces!.scan($0, scanner.patterns) }
        current!.bytes.removeFirst(PieceScan.piece)
    }

    mutating func endEntry() throws {
        guard let file = current else { return }
        current = nil
        if keep.contains(file.path) { result.kept[file.path] = file.bytes }
        guard scans else { return }
        if var pieces = file.pieces {
            file.bytes.withUnsafeBytes { pieces.scan($0, scanner.patterns) }
            if !pieces.finding.isEmpty { result.findings.append(pieces.finding) }
        } else {
            result.findings += file.bytes.withUnsafeBytes { scanner.scan(path: file.path, bytes: $0) }
        }
    }
}

/// The outer archive (`image save`) read for the audit in one pass: small files kept (the manifest names the layers at
/// the end), every layer blob read by `LayerFileAudit`, decompressed on the way when it is gzip. Blobs named by a
/// digest in `unscanned` (the base's layers, where the name tells) are not read for contents.
struct ArchiveAuditEntries: TarEntryConsumer {
    let scanner: FileContentScanner
    let unscanned: Set<String>
    /// Paths whose bytes are kept, in every blob.
    let keep: Set<String>
    /// Whether files are read for contents at all (not in a pass that only keeps bytes).
    let scansContents: Bool
    var metadata: [String: [UInt8]] = [:]
    var blobs: [String: LayerBlobAudit] = [:]

    private enum Current {
        case none
        case metadata(String, [UInt8])
        case sniffing(String, Int64, [UInt8])
        case layer(String, TarStreamParser<LayerFileAudit>, GzipInflater?)
    }
    private var current = Current.none

    init(scanner: FileContentScanner, unscanned: Set<String>, keep: Set<String>, scansContents: Bool = true) {
        self.scanner = scanner
        self.unscanned = unscanned
        self.keep = keep
        self.scansContents = scansContents
    }

    mutating func beginEntry(_ header: TarEntryHeader) throws {
        current = .none
        guard header.kind == .file, header.size > 0 else { return }
        current = .sniffing(ArchiveEntries.normalized(header.path), header.size, [])
    }

    mutating func entryContent(_ bytes: UnsafeRawBufferPointer) throws {
        switch current {
        case .none: return
        case .metadata(let path, var kept):
            current = .none
            kept.append(contentsOf: bytes)
            current = .metadata(path, kept)
        case .sniffing(let path, let size, var kept):
            current = .none
            kept.append(contentsOf: bytes)
            if kept.count >= 512 || Int64(kept.count) >= size {
                try classify(path, size, kept)
            } else {
                current = .sniffing(path, size, kept)
            }
        case .layer(let path, var parser, let inflater):
            current = .none
            if let inflater { try inflater.feed(bytes) { try parser.feed($0) } } else { try parser.feed(bytes) }
            current = .layer(path, parser, inflater)
        }
    }

    mutating func endEntry() throws {
        if case .sniffing(let path, let size, let kept) = current { try classify(path, size, kept) }
        switch current {
        case .metadata(let path, let bytes): metadata[path] = bytes
        case .layer(let path, let parser, _):
            try? parser.finish()
            var audit = parser.consumer
            try? audit.endEntry()
            blobs[path] = audit.result
        default: break
        }
        current = .none
    }

    private mutating func classify(_ path: String, _ size: Int64, _ first: [UInt8]) throws {
        let gzip = first.starts(with: [0x1f, 0x8b])
        let tar = first.count >= 263 && first[257..<262].elementsEqual("ustar".utf8)
        guard gzip || tar else {
            current = size <= Int64(ImageArchiveReader.metadataLimit) ? .metadata(path, first) : .none
            return
        }
        let scans = scansContents && (KnownLayers.contentAddress(path).map { !unscanned.contains($0) } ?? true)
        var parser = TarStreamParser(consumer: LayerFileAudit(scanner: scanner, scans: scans, keep: keep))
        let inflater = gzip ? try GzipInflater() : nil
        try first.withUnsafeBytes { bytes in
            if let inflater { try inflater.feed(bytes) { try parser.feed($0) } } else { try parser.feed(bytes) }
        }
        current = .layer(path, parser, inflater)
    }

    /// The blobs of the image's layers, lowest first, as its manifest names them.
    func layers(reference: String) throws -> [LayerBlobAudit] {
        let paths = try ImageArchiveLayout.paths(metadata: metadata, reference: reference).layers
        return try paths.map { path in
            guard let blob = blobs[ArchiveEntries.normalized(path)] else { throw ImageArchiveError.missingLayer(path) }
            return blob
        }
    }
}

/// An image's layers read from its archive for the audit, as `LayerFolderFiles` reads them from folders.
struct ArchivedLayerFiles {
    let layers: [LayerBlobAudit]

    /// Whether a layer above `layer` (from 0) replaces or deletes `path` or a folder it lies in.
    func isHidden(_ path: String, above layer: Int) -> Bool {
        let parts = path.split(separator: "/").map(String.init)
        for upper in layers.dropFirst(layer + 1) {
            if upper.presence[path] != nil { return true }
            for end in parts.indices.dropLast() where upper.presence[parts[...end].joined(separator: "/")] == .whiteout
            {
                return true
            }
        }
        return false
    }

    /// The topmost layer up to `top` that holds `path` as a file, unless a layer above it deletes it.
    func holder(of path: String, upTo top: Int) -> Int? {
        for index in stride(from: top, through: 0, by: -1) {
            switch layers[index].presence[path] {
            case .file?: return index
            case .whiteout?, .other?: return nil
            case .absent?, nil: continue
            }
        }
        return nil
    }
}

extension ContainerEngine {
    /// The audit's reading of an image through `image save`, for an engine whose layers are not on this machine:
    /// the same findings as from the folders. A second pass reads the files to compare with the base's, when some
    /// finding's path is also in the base's layers.
    func auditArchive(_ reference: String, measurement: ImageSizeMeasurement, baseLayers: Int) async throws -> (
        contents: [AuditedImage.LayerContent], baseOwn: Set<String>, passwd: String?
    ) {
        let unscanned = Set(measurement.diffIDs.prefix(baseLayers))
        let first = try await streamArchive(reference, unscanned: unscanned, keep: ["etc/passwd"])
        let files = ArchivedLayerFiles(layers: first)
        guard files.layers.count == measurement.layers.count else {
            throw ImageAuditError.layersNotReadable(image: reference)
        }
        var contents: [AuditedImage.LayerContent] = []
        for index in baseLayers..<files.layers.count {
            for finding in files.layers[index].findings {
                let outer = String(finding.path.split(separator: "!").first ?? "")
                contents.append(
                    .init(finding: finding, layer: index + 1, inFinalImage: !files.isHidden(outer, above: index)))
            }
        }
        let passwd = files.holder(of: "etc/passwd", upTo: files.layers.count - 1).flatMap {
            files.layers[$0].kept["etc/passwd"]
        }.map { String(decoding: $0, as: UTF8.self) }
        // The answer's secrets whose path the base's layers hold too: compared byte for byte in a second pass.
        var candidates: [(layer: Int, path: String, base: Int)] = []
        for (layer, path) in AuditedImage.secretFiles(measurement, contents, baseLayers: baseLayers) {
            if baseLayers > 0, let base = files.holder(of: path, upTo: baseLayers - 1) {
                candidates.append((layer, path, base))
            }
        }
        var baseOwn = Set<String>()
        if !candidates.isEmpty {
            let second = try await streamArchive(
                reference, unscanned: [], keep: Set(candidates.map(\.path)), scan: false)
            for candidate in candidates where second.count == files.layers.count {
                let mine = second[candidate.layer - 1].kept[candidate.path]
                if let mine, mine == second[candidate.base].kept[candidate.path] {
                    baseOwn.insert("\(candidate.layer) \(candidate.path)")
                }
            }
        }
        return (contents, baseOwn, passwd)
    }

    private func streamArchive(_ reference: String, unscanned: Set<String>, keep: Set<String>, scan: Bool = true)
        async throws -> [LayerBlobAudit]
    {
        let entries = ArchiveAuditEntries(
            scanner: FileContentScanner(), unscanned: unscanned, keep: keep, scansContents: scan)
        let stream = Mutex<(entries: TarStreamParser<ArchiveAuditEntries>, error: (any Error)?)>(
            (TarStreamParser(consumer: entries), nil))
        let result = try await execute(["image", "save", reference], timeout: 900, outputLimit: 4096) { kind, chunk in
            guard kind == .standardOutput else { return }
            stream.withLock { state in
                guard state.error == nil else { return }
                do { try chunk.withUnsafeBytes { try state.entries.feed($0) } } catch { state.error = error }
            }
        }
        guard result.succeeded else { throw EngineError.commandFailed(result) }
        return try stream.withLock { state in
            if let error = state.error { throw error }
            try state.entries.finish()
            return try state.entries.consumer.layers(reference: reference)
        }
    }
}
