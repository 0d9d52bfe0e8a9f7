import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A layer's count kept on disk between runs, by its diff id (the digest of its contents, so the count of a diff id
/// never changes): a batch or a lesson's check in a new process then measures an image on a base it has met before
/// without walking the base's layers again (golang:1.19's one layer is some 30,000 entries, most of a batch's walking).
///
/// The file is a header line and then fields each ended by a NUL byte, which no path holds: per entry its kind, its
/// bytes and its path; per mark its kind, its detail and its path. A file that does not read whole is no count.
enum LayerCountFile {
    /// The first line, with the measurement's format (`MeasuredSizeCache.format`): a count written by another way of
    /// counting is not read.
    static var magic: String { "handson-layer-count \(MeasuredSizeCache.format)\n" }

    static func encode(_ count: LayerCount) -> Data {
        var text = magic
        text +=
            "\(count.fileBytes) \(count.storedBytes) \(count.compression.rawValue) \(count.entries.count) \(count.marks.count)\n"
        var data = Data(text.utf8)
        data.reserveCapacity(data.count + count.entries.count * 64)
        for entry in count.entries {
            data.append(contentsOf: "\(entry.kind.rawValue)\0\(entry.bytes)\0".utf8)
            data.append(contentsOf: entry.path.utf8)
            data.append(0)
        }
        for mark in count.marks {
            data.append(contentsOf: "\(mark.kind.rawValue)\0\(mark.detail)\0".utf8)
            data.append(contentsOf: mark.path.utf8)
            data.append(0)
        }
        return data
    }

    /// The count a file holds; nil when it is not one whole count of this format.
    static func decode(_ data: Data) -> LayerCount? {
        data.withUnsafeBytes { raw -> LayerCount? in
            let bytes = raw.bindMemory(to: UInt8.self)
            var reader = Reader(bytes: bytes)
            guard reader.line() == String(magic.dropLast()), let header = reader.line() else { return nil }
            let fields = header.split(separator: " ")
            guard fields.count == 5, let fileBytes = Int64(fields[0]), let storedBytes = Int64(fields[1]),
                let compression = LayerStreamReader.Compression(rawValue: String(fields[2])),
                let entryCount = Int(fields[3]), let markCount = Int(fields[4]), entryCount >= 0, markCount >= 0,
                entryCount <= bytes.count, markCount <= bytes.count
            else { return nil }
            var entries: [LayerEntry] = []
            entries.reserveCapacity(entryCount)
            for _ in 0..<entryCount {
                guard let kindField = reader.field(), let kindNumber = UInt8(kindField),
                    let kind = LayerEntry.Kind(rawValue: kindNumber), let size = reader.field().flatMap({ Int64($0) }),
                    let path = reader.field()
                else { return nil }
                entries.append(LayerEntry(path: path, kind: kind, bytes: size))
            }
            var marks: [LayerMark] = []
            for _ in 0..<markCount {
                guard let kind = reader.field().flatMap(LayerMark.Kind.init(rawValue:)), let detail = reader.field(),
                    let path = reader.field()
                else { return nil }
                marks.append(LayerMark(path: path, kind: kind, detail: detail))
            }
            guard reader.atEnd else { return nil }
            return LayerCount(
                fileBytes: fileBytes, entries: entries, storedBytes: storedBytes, compression: compression,
                marks: marks)
        }
    }

    /// Reads fields off the bytes: up to a newline (the header) or a NUL (the rest).
    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var offset = 0

        var atEnd: Bool { offset == bytes.count }

        mutating func line() -> String? { upTo(UInt8(ascii: "\n")) }
        mutating func field() -> String? { upTo(0) }

        private mutating func upTo(_ end: UInt8) -> String? {
            guard offset < bytes.count,
                let found = bytes[offset...].firstIndex(of: end)
            else { return nil }
            defer { offset = found + 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[offset..<found]), as: UTF8.self)
        }
    }
}

/// The folder of layer counts kept between runs (`<sizes>/layers`): only layers of many entries (a base image's),
/// since an answer's own small layers walk in less time than a file takes to read, and each answer would leave some.
struct LayerCountFolder: Sendable {
    let path: String

    /// A layer of fewer entries is walked again rather than kept.
    static let keptEntries = 1000
    /// Past this many files, the least recently used go.
    static let keptFiles = 48

    func count(forDiffID diffID: String) -> LayerCount? {
        guard let file = file(for: diffID), let data = FileManager.default.contents(atPath: file) else { return nil }
        guard let count = LayerCountFile.decode(data) else {
            // A file cut short or written by hand: walked again, and written afresh.
            unlink(file)
            return nil
        }
        // Used now: the trim keeps the counts most recently read or written.
        utimes(file, nil)
        return count
    }

    func keep(_ count: LayerCount, forDiffID diffID: String) {
        guard count.entries.count >= Self.keptEntries, let file = file(for: diffID),
            access(file, F_OK) != 0
        else { return }
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        CacheFile.replace(file, with: LayerCountFile.encode(count))
        trim()
    }

    /// `<path>/<hex>.v<format>.layer`; nil for what is no sha256 digest.
    private func file(for diffID: String) -> String? {
        guard diffID.hasPrefix("sha256:"), MeasuredSizeCache.isDigest(diffID) else { return nil }
        return "\(path)/\(diffID.dropFirst(7)).v\(MeasuredSizeCache.format).layer"
    }

    private func trim() { NewestFiles.keep(Self.keptFiles, in: path) }
}
