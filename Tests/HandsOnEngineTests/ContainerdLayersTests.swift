import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnFormats

/// The containerd store's layers found from containerd's own metadata: the bbolt files a containerd wrote when it
/// imported a three-layer image (`scripts/capture-containerd-metadata.sh`), and what `ctr` listed then.
@Suite("The containerd store's layers, found from its metadata")
struct ContainerdLayersTests {
    static let fixtures = ListingFixtures.directory + "/../containerd"

    /// `expected.txt`: the image's digest, each snapshot with its parent, each snapshot folder with its paths.
    struct Expected {
        var image = ""
        var parents: [String: String] = [:]
        var paths: [Int: String] = [:]

        init() throws {
            let text = try String(contentsOfFile: ContainerdLayersTests.fixtures + "/expected.txt", encoding: .utf8)
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
                switch fields.first {
                case "image": image = fields[1]
                case "snapshot": parents[fields[1]] = fields[2]
                case "folder": paths[Int(fields[1]) ?? -1] = fields.count > 2 ? fields[2] : ""
                default: break
                }
            }
        }

        /// The snapshots lowest first, by their parents.
        var chain: [String] {
            var chain: [String] = []
            while let next = parents.first(where: { $0.value == (chain.last ?? "-") })?.key { chain.append(next) }
            return chain
        }
    }

    static func config() throws -> ImageConfig {
        let expected = try Expected()
        let config = try #require(
            ContainerdLayers.imageConfig(expected.image, contentStore: fixtures), "the manifest and config blobs")
        return config
    }

    @Test func chainIDsAreTheSnapshotsContainerdNamed() throws {
        let diffIDs = try #require(try Self.config().rootfs?.diffIDs)
        #expect(diffIDs.count == 3)
        #expect(ContainerdLayers.chainIDs(diffIDs) == (try Expected().chain))
    }

    @Test func eachLayersSnapshotFolderIsFoundThroughBothMetadataFiles() throws {
        let expected = try Expected()
        let snapshotter = try Self.snapshotter()
        defer { try? FileManager.default.removeItem(atPath: snapshotter) }
        let folders = try #require(
            try ContainerdLayers.snapshotFolders(
                chainIDs: expected.chain, metadata: "\(Self.fixtures)/meta.db", snapshotter: snapshotter,
                namespace: "moby"))
        let numbers = folders.map { Int(URL(fileURLWithPath: $0).deletingLastPathComponent().lastPathComponent) }
        // The lowest is busybox's (/bin), the second adds /d/f, the third deletes /x.
        #expect(numbers.map { expected.paths[$0 ?? -1]?.hasPrefix("/bin") } == [true, false, false])
        #expect(numbers.map { expected.paths[$0 ?? -1]?.contains("/d/f") } == [false, true, false])
        #expect(Set(numbers).count == 3)
        // Another namespace has none of them.
        #expect(
            try ContainerdLayers.snapshotFolders(
                chainIDs: expected.chain, metadata: "\(Self.fixtures)/meta.db", snapshotter: snapshotter,
                namespace: "default") == nil)
    }

    @Test func aDockerDataRootLeadsToTheLayersAndTheHistory() throws {
        let expected = try Expected()
        let dataRoot = try Self.layOutDataRoot()
        defer { try? FileManager.default.removeItem(atPath: dataRoot) }
        let diffIDs = try #require(try Self.config().rootfs?.diffIDs)
        let layers = try #require(
            ContainerdLayers.locate(imageID: expected.image, diffIDs: diffIDs, dataRoot: dataRoot))
        #expect(layers.folders.count == 3)
        #expect(layers.folders.allSatisfy { $0.hasPrefix("\(dataRoot)/containerd/daemon/") && $0.hasSuffix("/fs") })
        let instructions = (layers.config.history ?? []).compactMap(\.createdBy).filter { $0.contains("RUN") }
        #expect(instructions.contains { $0.contains("rm /x") }, "\(instructions)")

        // Layers that are not the image's, or a folder gone: no layers, so the archive is read instead.
        #expect(
            ContainerdLayers.locate(imageID: expected.image, diffIDs: diffIDs.reversed(), dataRoot: dataRoot) == nil)
        try FileManager.default.removeItem(atPath: layers.folders[1])
        #expect(ContainerdLayers.locate(imageID: expected.image, diffIDs: diffIDs, dataRoot: dataRoot) == nil)
    }

    @Test func anInspectLineOfTheContainerdStoreNamesItsLayers() {
        let line = "sha256:4b75\t{\"Data\":null,\"Name\":\"overlayfs\"}\t[\"sha256:aa\",\"sha256:bb\"]\t[\"x:1\"]"
        #expect(
            LayersOnDisk.containerdSnapshotterLayers(InspectedImage(inspectLine: line)) == ["sha256:aa", "sha256:bb"])
        let overlay2 = "sha256:4b75\t{\"Data\":{\"UpperDir\":\"/u\"},\"Name\":\"overlay2\"}\t[\"sha256:aa\"]\t[]"
        #expect(LayersOnDisk.containerdSnapshotterLayers(InspectedImage(inspectLine: overlay2)) == nil)
    }

    @Test func aDamagedBoltFileIsAnErrorNamingItNeverACrash() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: "\(Self.fixtures)/meta.db"))
        let folder = NSTemporaryDirectory() + "handson-bolt-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func write(_ data: Data) throws -> String {
            let path = "\(folder)/meta-\(UUID().uuidString.prefix(4)).db"
            try data.write(to: URL(fileURLWithPath: path))
            return path
        }
        // Cut short before the meta pages end, or both meta pages' checksums broken: refused, the file named.
        for damaged in [original.prefix(60), Self.flip(original, at: [40, 4096 + 40])] {
            let path = try write(damaged)
            #expect {
                _ = try BoltFile(path: path)
            } throws: { error in
                "\(error)".contains(path) && "\(error)".contains("meta")
            }
        }
        // One meta page broken: the other is read.
        let oneMeta = try BoltFile(path: try write(Self.flip(original, at: [40])))
        #expect(try oneMeta.lookUp(["v1", "moby"]) != nil)
        // The pages after the meta pages cut off or overwritten: lookups throw or find nothing; nothing crashes.
        let pagesCut = try BoltFile(path: try write(original.prefix(8192)))
        #expect(throws: BoltFile.Malformed.self) { try pagesCut.lookUp(["v1", "moby", "snapshots"]) }
        var bytes = [UInt8](original)
        for index in stride(from: 8192, to: bytes.count, by: 7) { bytes[index] = UInt8(truncatingIfNeeded: index) }
        let scrambled = Data(bytes)
        let garbage = try BoltFile(path: try write(scrambled))
        _ = try? garbage.lookUp(["v1", "moby", "snapshots", "overlayfs", try Expected().chain[0], "name"])
        #expect(throws: BoltFile.Malformed.self) { try BoltFile(path: "\(folder)/missing.db") }
    }

    @Test func uvarintsDecodeAsGoWritesThem() {
        #expect(BoltFile.uvarint([0x03]) == 3)
        #expect(BoltFile.uvarint([0x96, 0x01]) == 150)
        #expect(BoltFile.uvarint([0xff, 0xff, 0x03]) == 65535)
        #expect(BoltFile.uvarint([0x80, 0x80]) == nil, "not ended")
        #expect(BoltFile.uvarint([]) == nil)
    }

    /// The overlayfs snapshotter's folder with its metadata as captured (its snapshot folders are laid out by
    /// `layOutDataRoot`).
    static func snapshotter() throws -> String {
        let folder = NSTemporaryDirectory() + "handson-snapshotter-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(fixtures)/overlayfs-metadata.db", toPath: "\(folder)/metadata.db")
        for number in try Expected().paths.keys {
            try FileManager.default.createDirectory(
                atPath: "\(folder)/snapshots/\(number)/fs", withIntermediateDirectories: true)
        }
        return folder
    }

    /// A Docker data root whose containerd keeps the captured metadata, content and (empty) snapshot folders.
    static func layOutDataRoot() throws -> String {
        let dataRoot = NSTemporaryDirectory() + "handson-data-root-\(UUID().uuidString.prefix(8))"
        let root = "\(dataRoot)/containerd/daemon"
        let files = FileManager.default
        try files.createDirectory(atPath: "\(root)/io.containerd.metadata.v1.bolt", withIntermediateDirectories: true)
        try files.copyItem(atPath: "\(fixtures)/meta.db", toPath: "\(root)/io.containerd.metadata.v1.bolt/meta.db")
        try files.moveItem(atPath: try snapshotter(), toPath: "\(root)/io.containerd.snapshotter.v1.overlayfs")
        try files.createDirectory(
            atPath: "\(root)/io.containerd.content.v1.content/blobs", withIntermediateDirectories: true)
        try files.copyItem(
            atPath: "\(fixtures)/blobs/sha256", toPath: "\(root)/io.containerd.content.v1.content/blobs/sha256")
        return dataRoot
    }

    static func flip(_ data: Data, at offsets: [Int]) -> Data {
        var copy = data
        for offset in offsets { copy[offset] ^= 0xff }
        return copy
    }
}
