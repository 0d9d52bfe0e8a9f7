import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine

/// A large layer's count is kept on disk by its diff id, so the next process measures an image on that base without
/// walking it; a file that does not read whole is never taken for a count.
@Suite("Layer counts kept between runs")
struct LayerCountFileTests {
    static func temporaryFolder() -> String {
        NSTemporaryDirectory() + "handson-layer-counts-\(UUID().uuidString.prefix(8))"
    }

    /// Every kind of entry, names with spaces, tabs, a newline and other scripts, and every kind of mark.
    static func sampleCount(entries: Int) -> LayerCount {
        let kinds: [LayerEntry.Kind] = [
            .file, .directory, .symbolicLink, .hardLink, .other, .whiteout, .opaqueDirectory,
        ]
        let names = ["usr/lib/go/src/a b.go", "etc/tab\there", "odd\nname", "ファイル/データ.bin", "plain"]
        let listed = (0..<entries).map { index in
            LayerEntry(
                path: "\(names[index % names.count])-\(index)", kind: kinds[index % kinds.count],
                bytes: Int64(index * 37 % 5000))
        }
        return LayerCount(
            fileBytes: listed.reduce(0) { $0 + $1.bytes }, entries: listed, storedBytes: 123_456, compression: .gzip,
            marks: [
                LayerMark(path: "usr/bin/passwd", kind: .setuid, detail: "4755"),
                LayerMark(path: "app/.env", kind: .secretName, detail: ".env"),
                LayerMark(path: "app/.git/config", kind: .versionControl, detail: "app/.git"),
            ])
    }

    @Test func aCountReadsBackAsItWasWritten() {
        let count = Self.sampleCount(entries: 40)
        #expect(LayerCountFile.decode(LayerCountFile.encode(count)) == count)
        let empty = LayerCount(fileBytes: 0, entries: [], storedBytes: 0, compression: .none)
        #expect(LayerCountFile.decode(LayerCountFile.encode(empty)) == empty)
    }

    @Test func aFileThatIsNotOneWholeCountIsNone() {
        let data = LayerCountFile.encode(Self.sampleCount(entries: 40))
        #expect(LayerCountFile.decode(data.dropLast(3)) == nil, "cut short in the last field")
        #expect(LayerCountFile.decode(data.prefix(data.count / 2)) == nil, "cut short in the middle")
        #expect(LayerCountFile.decode(data + Data("extra\0".utf8)) == nil, "more than the header says")
        var otherFormat = data
        otherFormat.replaceSubrange(
            0..<LayerCountFile.magic.utf8.count, with: Data("handson-layer-count 0\n".utf8))
        #expect(LayerCountFile.decode(otherFormat) == nil, "written by another way of counting")
        #expect(LayerCountFile.decode(Data()) == nil)
        #expect(LayerCountFile.decode(Data((LayerCountFile.magic + "1 1 none 5 0\n").utf8)) == nil)
    }

    @Test func aLargeLayerIsKnownToTheNextProcessAndASmallOneIsNotKept() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let large = Self.sampleCount(entries: LayerCountFolder.keptEntries)
        let small = Self.sampleCount(entries: LayerCountFolder.keptEntries - 1)
        let (largeID, smallID) = (
            "sha256:" + String(repeating: "a", count: 64), "sha256:" + String(repeating: "b", count: 64)
        )
        let first = KnownLayers(limit: 8, folder: LayerCountFolder(path: folder))
        first.remember(large, forDiffID: largeID)
        first.remember(small, forDiffID: smallID)
        // A new process: nothing in memory, the folder the same.
        let next = KnownLayers(limit: 8, folder: LayerCountFolder(path: folder))
        #expect(next.count(forDiffID: largeID) == large)
        #expect(next.count(forDiffID: smallID) == nil, "a small layer walks faster than its file would read")
        #expect(KnownLayers(limit: 8).count(forDiffID: largeID) == nil, "no folder, nothing from earlier runs")
    }

    @Test func aDamagedFileIsRemovedAndTheLayerWalkedAgain() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let diffID = "sha256:" + String(repeating: "c", count: 64)
        KnownLayers(limit: 8, folder: LayerCountFolder(path: folder)).remember(
            Self.sampleCount(entries: 2000), forDiffID: diffID)
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).first)
        let data = try #require(FileManager.default.contents(atPath: "\(folder)/\(file)"))
        try data.prefix(data.count - 10).write(to: URL(fileURLWithPath: "\(folder)/\(file)"))
        #expect(KnownLayers(limit: 8, folder: LayerCountFolder(path: folder)).count(forDiffID: diffID) == nil)
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/\(file)"))
    }

    /// An image whose layers were counted by an earlier process is measured without its folders being read: here
    /// they are gone, and only the kept count can give the measurement.
    @Test func anImageOnAKeptBaseIsMeasuredWithoutWalkingIt() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let layers = try Self.layerFolder(files: LayerCountFolder.keptEntries + 10, in: "\(folder)/store")
        let diffID = "sha256:" + String(repeating: "d", count: 64)
        let image = LayersOnDisk(
            folders: [layers], config: ImageConfig(history: nil, rootfs: ImageConfig.RootFS(diffIDs: [diffID])))
        let walked = ImageSizeMeasurement(
            image: try image.read(known: KnownLayers(limit: 8, folder: LayerCountFolder(path: "\(folder)/kept"))))
        try FileManager.default.removeItem(atPath: layers)
        #expect(throws: LayerFolder.Unreadable.self) { try image.read(known: KnownLayers(limit: 8)) }
        let kept = ImageSizeMeasurement(
            image: try image.read(known: KnownLayers(limit: 8, folder: LayerCountFolder(path: "\(folder)/kept"))))
        #expect(kept == walked)
        #expect(walked.sizeBytes == Int64((LayerCountFolder.keptEntries + 10) * 10))
    }

    static func layerFolder(files: Int, in parent: String) throws -> String {
        let layer = "\(parent)/diff"
        try FileManager.default.createDirectory(atPath: "\(layer)/app", withIntermediateDirectories: true)
        for index in 0..<files {
            try Data(count: 10).write(to: URL(fileURLWithPath: "\(layer)/app/f\(index)"))
        }
        return layer
    }
}
