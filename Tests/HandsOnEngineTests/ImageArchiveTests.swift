import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnMessages

/// Real `image save` archives of one small image, captured on every engine of the matrix by
/// scripts/capture-archive-fixtures.sh, with the overlay2 store's own `.Size` for it.
enum ArchiveFixtures {
    static let directory = ListingFixtures.directory + "/../archives"

    static let engines = ["docker-buildkit", "docker-classic", "docker-containerd-store", "podman"]

    static func bytes(_ engine: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(engine).tar")))
    }

    static func overlay2Size() throws -> Int64 {
        let text = try String(contentsOfFile: "\(directory)/expected.txt", encoding: .utf8)
        return try #require(
            text.split(separator: " ").last.flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
    }
}

@Suite("Image archives from every engine")
struct ImageArchiveTests {
    @Test(arguments: ArchiveFixtures.engines)
    func theSameImageMeasuresTheSameOnEveryEngine(engine: String) async throws {
        let measurement = try ImageSizeMeasurement.read(archive: try ArchiveFixtures.bytes(engine))
        // a.txt 1000 (its hard link once), the symbolic link's 5-byte target, the long-named file 10, second.bin 5000,
        // and a.txt again in the third layer, 5000.
        #expect(measurement.sizeBytes == 11_015)
        #expect(measurement.layers.map(\.fileBytes) == [1015, 5000, 5000])
        #expect(measurement.size == "11kB")
        #expect(measurement.layers.allSatisfy { $0.compressed == (engine == "docker-containerd-store") })
        // Where the bytes are: each layer's instruction from the history, a.txt overwritten by the third layer.
        #expect(
            measurement.layers.map { $0.instruction?.split(separator: " ").first } == ["ADD", "COPY", "COPY"],
            "\(measurement.layers)")
        #expect(measurement.wasted == [WastedFile(path: "/a.txt", bytes: 1000, addedBy: 1, hiddenBy: 3)])
        #expect(measurement.wastedBytes == 1000)
        #expect(abs(measurement.efficiency - (1 - 1000.0 / 11_015)) < 1e-9)
        #expect(measurement.largest.prefix(2).map(\.path).sorted() == ["/a.txt", "/second.bin"])
        #expect(measurement.largest.first { $0.path == "/a.txt" }?.layer == 3)
        #expect(measurement.diffIDs.count == 3, "the config's layer digests, to find the base image by")
        let overlay2 = try ArchiveFixtures.overlay2Size()
        #expect(
            abs(Double(measurement.sizeBytes - overlay2)) <= 0.005 * Double(overlay2),
            "within 0.5% of overlay2's own count (\(overlay2)): a built layer's symbolic links count 0 there")
    }

    @Test(arguments: [1, 100, 512, 8191, 1 << 16])
    func chunkBoundariesDoNotMatter(chunk: Int) async throws {
        for engine in ArchiveFixtures.engines {
            let bytes = try ArchiveFixtures.bytes(engine)
            var reader = ImageArchiveReader()
            try feedInChunks(bytes, chunk: chunk) { try reader.feed($0) }
            #expect(ImageSizeMeasurement(image: try reader.finish()).sizeBytes == 11_015, "\(engine)")
        }
    }

    @Test func anArchiveWithoutAManifestSaysSo() async throws {
        var bytes = try ArchiveFixtures.bytes("podman")
        // Rename manifest.json in its header (and fix the checksum) so the archive no longer has one.
        let name = Array("manifest.json".utf8)
        var offset = 0
        while offset + 512 <= bytes.count {
            if Array(bytes[offset..<offset + name.count]) == name {
                bytes[offset] = UInt8(ascii: "X")
                let sum = bytes[offset..<offset + 512].enumerated().reduce(0) {
                    $0 + (148..<156 ~= $1.offset ? 32 : Int($1.element))
                }
                let field = Array(String(format: "%06o\0 ", sum).utf8)
                for (index, byte) in field.enumerated() { bytes[offset + 148 + index] = byte }
                break
            }
            offset += 512
        }
        #expect(throws: ImageArchiveError.noManifest) { _ = try ImageSizeMeasurement.read(archive: bytes) }
    }

    /// An archive cut short names the tar stream's own problem as a part, shown in the reader's language.
    @Test func anArchiveCutShortSaysWhyInTheReadersLanguage() throws {
        let bytes = try ArchiveFixtures.bytes("podman")
        var thrown: (any Error)?
        do { _ = try ImageSizeMeasurement.read(archive: Array(bytes.prefix(bytes.count / 2 + 100))) } catch {
            thrown = error
        }
        let error = try #require(thrown as? ImageArchiveError)
        let reason = try #require(error.message.parts?["reason"], "\(error)")
        #expect(reason.key.hasPrefix("error.") && reason.key != Message.literalKey, "\(reason.key)")
        #expect(error.message.text(in: .ja) != error.message.text(in: .en))
        #expect(reason.text(in: .ja).isEmpty == false && error.message.text(in: .ja).contains(reason.text(in: .ja)))
    }

    @Test func notAnArchiveIsUnreadable() async {
        #expect(throws: ImageArchiveError.self) {
            _ = try ImageSizeMeasurement.read(archive: Array("Error: no such image\n".utf8))
        }
    }

    @Test(arguments: [("6.73MB", "10.6MB", ImageStore.containerd), ("6.73MB", "6.74 MB", ImageStore.podman)])
    func theListingIsExplainedWhereItDiffers(measured: String, listed: String, store: ImageStore) throws {
        let note = try #require(ImageSizeReport.note(measured: measured, listed: listed, store: store))
        #expect(
            note
                == Message(
                    .imageSizeReport.engineListsListedWhy, ["listed": listed],
                    parts: ["why": store.listingMeaningMessage]))
        #expect(note.key == "imageSizeReport.engineListsListedWhy" && note.text(in: .ja) != note.text(in: .en))
        #expect(ImageSizeReport.note(measured: "6.73MB", listed: "6.73MB", store: .containerd) == nil)
        #expect(
            ImageSizeReport.note(measured: "4.48MB", listed: "4.48 MB", store: .podman) == nil,
            "podman's spacing is the same figure")
    }
}

@Suite("Measurements remembered by image id")
struct MeasuredSizeCacheTests {
    @Test func aMeasurementIsFoundAgainByItsIDAndTheFolderStaysBounded() async throws {
        let folder = NSTemporaryDirectory() + "handson-sizes-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let measurement = try ImageSizeMeasurement.read(archive: try ArchiveFixtures.bytes("podman"))
        let id = "sha256:" + String(repeating: "ab", count: 32)
        MeasuredSizeCache(directory: folder).store(measurement, for: id)
        #expect(
            MeasuredSizeCache(directory: folder).lookUp(id) == measurement, "a new process reads it from the folder")
        #expect(MeasuredSizeCache(directory: folder).lookUp("not-a-digest") == nil)
        let cache = MeasuredSizeCache(directory: folder)
        for index in 0..<(MeasuredSizeCache.keptFiles + 40) {
            cache.store(measurement, for: "sha256:" + String(format: "%064x", index + 1))
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(files.count <= MeasuredSizeCache.keptFiles + 32, "\(files.count) files kept")
    }
}

@Suite("Layers read once per process")
struct KnownLayersTests {
    /// The archive with every layer blob's bytes overwritten by zeros (names, sizes and everything else kept).
    static func withLayersBlanked(_ archive: [UInt8]) -> (bytes: [UInt8], blanked: Int) {
        var bytes = archive
        var offset = 0
        var blanked = 0
        while offset + 512 <= bytes.count, bytes[offset] != 0 {
            let name = String(decoding: bytes[offset..<offset + 100].prefix { $0 != 0 }, as: UTF8.self)
            let sizeField = String(
                decoding: bytes[offset + 124..<offset + 136].prefix { $0 != 0 && $0 != 32 }, as: UTF8.self)
            let size = Int(sizeField, radix: 8) ?? 0
            let content = offset + 512
            let isLayer =
                size > 0 && KnownLayers.contentAddress(name) != nil
                && (bytes[content..<content + 2].elementsEqual([0x1f, 0x8b])
                    || (size >= 263 && bytes[content + 257..<content + 262].elementsEqual("ustar".utf8)))
            if isLayer {
                for index in content..<content + size { bytes[index] = 0 }
                blanked += 1
            }
            offset = content + (size + 511) / 512 * 512
        }
        return (bytes, blanked)
    }

    static func measure(_ bytes: [UInt8], known: KnownLayers) throws -> ImageSizeMeasurement {
        var reader = ImageArchiveReader(known: known)
        try bytes.withUnsafeBytes { try reader.feed($0) }
        return ImageSizeMeasurement(image: try reader.finish())
    }

    @Test(arguments: ArchiveFixtures.engines)
    func aLayerReadBeforeIsNotReadAgain(engine: String) async throws {
        let original = try ArchiveFixtures.bytes(engine)
        let (blanked, count) = Self.withLayersBlanked(original)
        #expect(count == 3, "the fixture's three layers are named by their digests")
        let known = KnownLayers(limit: 8)
        let first = try Self.measure(original, known: known)
        // The same layers again, their bytes now zeros: the counts come from the first reading.
        let again = try Self.measure(blanked, known: known)
        #expect(again.sizeBytes == first.sizeBytes && again.layers.map(\.fileBytes) == first.layers.map(\.fileBytes))
        // A reader that has not seen them reads the zeros, and finds no files (or no layers) there.
        let fresh = try? Self.measure(blanked, known: KnownLayers(limit: 8))
        #expect(fresh?.sizeBytes != first.sizeBytes)
    }

    @Test func onlyContentAddressedNamesAreRemembered() async {
        let digest = String(repeating: "ab", count: 32)
        #expect(KnownLayers.contentAddress("blobs/sha256/\(digest)") == "sha256:\(digest)")
        #expect(KnownLayers.contentAddress("\(digest).tar") == "sha256:\(digest)", "Podman's layer names")
        #expect(
            KnownLayers.contentAddress("\(digest)/layer.tar") == nil, "a legacy layer id is not its content's digest")
        #expect(KnownLayers.contentAddress("blobs/sha256/short") == nil)
        let known = KnownLayers(limit: 2)
        let count = LayerCount(fileBytes: 1, entries: [], storedBytes: 1, compression: .none)
        for index in 0..<3 { known.remember(count, for: "blobs/sha256/\(String(repeating: "\(index)", count: 64))") }
        #expect(known.count(for: "blobs/sha256/\(String(repeating: "0", count: 64))") == nil, "the oldest is dropped")
        #expect(known.count(for: "blobs/sha256/\(String(repeating: "2", count: 64))") == count)
    }
}
