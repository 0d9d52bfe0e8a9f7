import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnFormats
@testable import HandsOnProcesses

/// Collects every entry a tar stream hands over, with the bytes of its content.
struct RecordingConsumer: TarEntryConsumer {
    var entries: [(header: TarEntryHeader, contentBytes: Int)] = []

    mutating func beginEntry(_ header: TarEntryHeader) throws { entries.append((header, 0)) }
    mutating func entryContent(_ bytes: UnsafeRawBufferPointer) throws {
        entries[entries.count - 1].contentBytes += bytes.count
    }
    mutating func endEntry() throws {}
}

@Suite("Tar streams read in chunks")
struct TarStreamParserTests {
    static func parse(_ bytes: [UInt8], chunk: Int) throws -> TarStreamParser<RecordingConsumer> {
        var parser = TarStreamParser(consumer: RecordingConsumer())
        try feedInChunks(bytes, chunk: chunk) { try parser.feed($0) }
        try parser.finish()
        return parser
    }

    @Test(arguments: ["gnu", "pax", "posix"], [1, 7, 512, 4096, 1 << 20])
    func everyEntryWithItsKindSizeAndLinkTarget(format: String, chunk: Int) async throws {
        let (folder, longPath) = try ArchiveMaker.sampleTree()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let parser = try await Self.parse(try ArchiveMaker.tar(folder, format: format), chunk: chunk)
        let byPath = Dictionary(
            parser.consumer.entries.map { ($0.header.path, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(parser.reachedEnd)
        #expect(byPath["./a.txt"]?.header.kind == .file)
        #expect(byPath["./a.txt"]?.header.size == 1000)
        #expect(byPath["./a.txt"]?.contentBytes == 1000)
        #expect(byPath["./hard"]?.header.kind == .hardLink)
        #expect(byPath["./hard"]?.header.linkTarget == "./a.txt")
        #expect(byPath["./hard"]?.contentBytes == 0)
        #expect(byPath["./link"]?.header.kind == .symbolicLink)
        #expect(byPath["./link"]?.header.linkTarget == "a.txt")
        #expect(byPath["./empty"]?.header.size == 0)
        #expect(byPath["./\(longPath)"]?.header.size == 10, "the long name (GNU 'L' record or PAX path) is applied")
        #expect(byPath["./\(longPath)"]?.contentBytes == 10)
        #expect(parser.consumer.entries.contains { $0.header.kind == .directory })
    }

    @Test func aLayerIsCountedAsOverlay2CountsIt() async throws {
        let (folder, longPath) = try ArchiveMaker.sampleTree()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var counter = TarStreamParser(consumer: LayerContentsReader())
        try await ArchiveMaker.tar(folder, format: "pax").withUnsafeBytes { try counter.feed($0) }
        // a.txt once (the hard link is the same inode), the symlink as its target's length, the long-named file.
        #expect(counter.consumer.fileBytes == 1000 + Int64("a.txt".utf8.count) + 10)
        #expect(!longPath.isEmpty)
    }

    @Test func aDamagedHeaderNamesItsOffset() async throws {
        let (folder, _) = try ArchiveMaker.sampleTree()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var bytes = try await ArchiveMaker.tar(folder, format: "gnu")
        bytes[0] ^= 0xff  // the first header's checksum no longer matches
        #expect(
            throws: TarStreamError.badHeader(
                offset: 0, reason: "the checksum does not match (not a tar stream, or a damaged one)")
        ) {
            _ = try Self.parse(bytes, chunk: 512)
        }
    }

    @Test func aStreamCutInsideAnEntryIsTruncated() async throws {
        let (folder, _) = try ArchiveMaker.sampleTree()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let bytes = try await ArchiveMaker.tar(folder, format: "gnu")
        let cut = Array(bytes.prefix(1024 + 300))
        #expect(throws: TarStreamError.self) { _ = try Self.parse(cut, chunk: 100) }
    }

    @Test func base256SizesAndOctalFieldsAreRead() async {
        var field = [UInt8](repeating: 0, count: 12)
        field[0] = 0x80
        field[11] = 0x02
        field[10] = 0x01  // 0x0102
        #expect(TarStreamParser<RecordingConsumer>.number(field[...]) == 258)
        #expect(TarStreamParser<RecordingConsumer>.number(Array("0000001750 \0".utf8)[...]) == 1000)
        #expect(TarStreamParser<RecordingConsumer>.number(Array("12x".utf8)[...]) == nil)
    }

    @Test func paxRecordsSplitByTheirLengths() async throws {
        // A value may hold '=' and a newline: the length says where it ends.
        let text = "29 path=a/b c=d/e\nwith space\n"
        let records = try #require(TarStreamParser<RecordingConsumer>.paxRecords(Array(text.utf8)))
        #expect(records.count == 1)
        #expect(records.first?.0 == "path")
        #expect(records.first?.1 == "a/b c=d/e\nwith space")
        #expect(TarStreamParser<RecordingConsumer>.paxRecords(Array("99 path=x\n".utf8)) == nil)
    }
}

@Suite("Gzip layers inflated as they stream")
struct GzipInflaterTests {
    static func inflate(_ bytes: [UInt8], chunk: Int) throws -> [UInt8] {
        let inflater = try GzipInflater()
        var output: [UInt8] = []
        try feedInChunks(bytes, chunk: chunk) { piece in try inflater.feed(piece) { output.append(contentsOf: $0) } }
        return output
    }

    @Test(arguments: [1, 333, 65536])
    func gzipsOutputComesBackWhole(chunk: Int) async throws {
        let original = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 1000) }
        #expect(try await Self.inflate(ArchiveMaker.gzip(original), chunk: chunk) == original)
    }

    @Test func concatenatedMembersAndTrailingZerosAreRead() async throws {
        let first = Array("first member\n".utf8)
        let second = Array("second member\n".utf8)
        let joined = try await ArchiveMaker.gzip(first) + ArchiveMaker.gzip(second) + [0, 0, 0, 0]
        #expect(try Self.inflate(joined, chunk: 5) == first + second)
    }

    @Test func damagedDataIsAnError() async throws {
        var compressed = try await ArchiveMaker.gzip(Array(repeating: 0x41, count: 10_000))
        for index in 12..<min(40, compressed.count - 8) { compressed[index] ^= 0x5a }
        #expect(throws: InflateError.self) { _ = try Self.inflate(compressed, chunk: 4096) }
    }
}
