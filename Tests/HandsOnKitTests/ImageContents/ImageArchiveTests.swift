import Foundation
import Testing
@testable import HandsOnKit

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
        return try #require(text.split(separator: " ").last.flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
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
        #expect(measurement.layers.map { $0.instruction?.split(separator: " ").first } == ["ADD", "COPY", "COPY"], "\(measurement.layers)")
        #expect(measurement.wasted == [WastedFile(path: "/a.txt", bytes: 1000, addedBy: 1, hiddenBy: 3)])
        #expect(measurement.wastedBytes == 1000)
        #expect(abs(measurement.efficiency - (1 - 1000.0 / 11_015)) < 1e-9)
        #expect(measurement.largest.prefix(2).map(\.path).sorted() == ["/a.txt", "/second.bin"])
        #expect(measurement.largest.first { $0.path == "/a.txt" }?.layer == 3)
        #expect(measurement.diffIDs.count == 3, "the config's layer digests, to find the base image by")
        let overlay2 = try ArchiveFixtures.overlay2Size()
        #expect(abs(Double(measurement.sizeBytes - overlay2)) <= 0.005 * Double(overlay2),
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
                let sum = bytes[offset..<offset + 512].enumerated().reduce(0) { $0 + (148..<156 ~= $1.offset ? 32 : Int($1.element)) }
                let field = Array(String(format: "%06o\0 ", sum).utf8)
                for (index, byte) in field.enumerated() { bytes[offset + 148 + index] = byte }
                break
            }
            offset += 512
        }
        #expect(throws: ImageArchiveError.noManifest) { _ = try ImageSizeMeasurement.read(archive: bytes) }
    }

    @Test func notAnArchiveIsUnreadable() async {
        #expect(throws: ImageArchiveError.self) { _ = try ImageSizeMeasurement.read(archive: Array("Error: no such image\n".utf8)) }
    }

    @Test(arguments: [("6.73MB", "10.6MB", ImageStore.containerd), ("6.73MB", "6.74 MB", ImageStore.podman)])
    func theListingIsExplainedWhereItDiffers(measured: String, listed: String, store: ImageStore) throws {
        let note = try #require(ImageSizeReport.note(measured: measured, listed: listed, store: store))
        #expect(note == "the engine lists \(listed): \(store.listingMeaning)")
        #expect(ImageSizeReport.note(measured: "6.73MB", listed: "6.73MB", store: .containerd) == nil)
        #expect(ImageSizeReport.note(measured: "4.48MB", listed: "4.48 MB", store: .podman) == nil, "podman's spacing is the same figure")
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
        #expect(MeasuredSizeCache(directory: folder).lookUp(id) == measurement, "a new process reads it from the folder")
        #expect(MeasuredSizeCache(directory: folder).lookUp("not-a-digest") == nil)
        let cache = MeasuredSizeCache(directory: folder)
        for index in 0..<(MeasuredSizeCache.keptFiles + 40) {
            cache.store(measurement, for: "sha256:" + String(format: "%064x", index + 1))
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(files.count <= MeasuredSizeCache.keptFiles + 32, "\(files.count) files kept")
    }
}
