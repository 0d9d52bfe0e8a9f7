import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine

/// A layer folder as overlayfs leaves it (files, a hard link, a symbolic link, a deletion marked by a character device
/// 0/0, an opaque directory marked by an attribute) reads as the same entries its tar would give.
@Suite("Layers read from their folders")
struct LayerFolderTests {
    @Test func aLayerFolderCountsAsItsTarWould() throws {
        let folder = NSTemporaryDirectory() + "handson-layer-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: "\(folder)/app/web", withIntermediateDirectories: true)
        try Data(count: 3000).write(to: URL(fileURLWithPath: "\(folder)/app/server"))
        try Data(count: 120).write(to: URL(fileURLWithPath: "\(folder)/app/web/index.html"))
        #expect(link("\(folder)/app/server", "\(folder)/app/server-again") == 0)
        try FileManager.default.createSymbolicLink(atPath: "\(folder)/server", withDestinationPath: "/app/server")
        let root = getuid() == 0
        if root {
            #expect(mknod("\(folder)/app/old.bin", S_IFCHR | 0o600, 0) == 0)
            #expect(Self.setAttribute("\(folder)/app/web", "trusted.overlay.opaque", "y") == 0)
        }

        let count = try LayerFolder.count(folder)
        #expect(count.fileBytes == 3000 + 120 + Int64("/app/server".utf8.count))
        var expected: [LayerEntry] = [
            LayerEntry(path: "app", kind: .directory, bytes: 0),
            LayerEntry(path: "app/old.bin", kind: .whiteout, bytes: 0),
            LayerEntry(path: "app/server", kind: .file, bytes: 3000),
            LayerEntry(path: "app/server-again", kind: .hardLink, bytes: 0),
            LayerEntry(path: "app/web", kind: .directory, bytes: 0),
            LayerEntry(path: "app/web", kind: .opaqueDirectory, bytes: 0),
            LayerEntry(path: "app/web/index.html", kind: .file, bytes: 120),
            LayerEntry(path: "server", kind: .symbolicLink, bytes: 11),
        ]
        if !root { expected.removeAll { $0.kind == .whiteout || $0.kind == .opaqueDirectory } }
        #expect(count.entries == expected)
    }

    @Test func anUnreadableFolderIsNamed() {
        #expect(throws: LayerFolder.Unreadable.self) { try LayerFolder.count("/nonexistent/handson-layer") }
    }

    @Test func onlyALocalOverlayStoreWithEveryLayerIsReadFromDisk() throws {
        let folder = NSTemporaryDirectory() + "handson-store-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for name in ["l1", "l2"] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(name)/diff", withIntermediateDirectories: true)
        }
        let line =
            "sha256:abc\t{\"Data\":{\"LowerDir\":\"\(folder)/l1/diff\",\"UpperDir\":\"\(folder)/l2/diff\"},"
            + "\"Name\":\"overlay2\"}\t[\"sha256:1\",\"sha256:2\"]\n"
        let image = InspectedImage(inspectLine: line)
        #expect(image.id == "sha256:abc")
        #expect(LayersOnDisk.locate(image, isLocal: true)?.folders == ["\(folder)/l1/diff", "\(folder)/l2/diff"])
        #expect(LayersOnDisk.locate(image, isLocal: false) == nil, "a remote engine's paths")
        let containerd = "sha256:abc\t{\"Data\":null,\"Name\":\"overlayfs\"}\t[\"sha256:1\"]"
        #expect(LayersOnDisk.locate(InspectedImage(inspectLine: containerd), isLocal: true) == nil)
        let missing = line.replacingOccurrences(of: "l1/diff", with: "gone/diff")
        #expect(LayersOnDisk.locate(InspectedImage(inspectLine: missing), isLocal: true) == nil)
        let bare = InspectedImage(inspectLine: "sha256:abc\n")
        #expect(bare.id == "sha256:abc" && LayersOnDisk.locate(bare, isLocal: true) == nil)
    }

    /// setxattr(2), which Swift's Glibc module does not expose, found in the C library at run time.
    static func setAttribute(_ path: String, _ name: String, _ value: String) -> Int32 {
        typealias SetXattr =
            @convention(c) (
                UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer, Int, Int32
            ) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setxattr") else { return -1 }
        let call = unsafeBitCast(symbol, to: SetXattr.self)
        return value.withCString { bytes in call(path, name, bytes, value.utf8.count, 0) }
    }
}

/// A measurement is remembered by what it depends on, so copies of one answer (their images differ in labels only)
/// are measured once in a process; an image whose layers or history differ is never given another's measurement.
@Suite("Measurements remembered by their layers and history")
struct MeasurementByContentTests {
    @Test func onlyAnImageOfTheSameLayersAndHistoryGetsTheRememberedMeasurement() async throws {
        let folder = NSTemporaryDirectory() + "handson-content-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (layer, bytes) in [("l1", 5000), ("l2", 7000)] {
            try FileManager.default.createDirectory(
                atPath: "\(folder)/\(layer)/diff", withIntermediateDirectories: true)
            try Data(count: bytes).write(to: URL(fileURLWithPath: "\(folder)/\(layer)/diff/app"))
        }
        let runner = FakeProcessRunner()
        runner.on(["podman", "image", "inspect"]) { request in
            let reference = request.arguments[4]
            let history = reference == "other-history" ? "COPY app /elsewhere" : "COPY app /app"
            let (layer, diffID) = reference == "other-layer" ? ("l2", "sha256:2") : ("l1", "sha256:1")
            let id = "sha256:" + String(repeating: "\(reference.count % 10)", count: 64)
            let line =
                "\(id)\t{\"Data\":{\"UpperDir\":\"\(folder)/\(layer)/diff\"},\"Name\":\"overlay\"}\t[\"\(diffID)\"]\t[]\t"
                + "[{\"created_by\":\"\(history)\"}]\n"
            return (0, line, "")
        }
        let engine = ContainerEngine(kind: .podman, runner: runner, environment: [:])
        let first = try await engine.measureImage("first")
        #expect(first.sizeBytes == 5000 && first.layers.map(\.instruction) == ["COPY app /app"])
        // The folder changes behind the engine's back: a copy of the same layers and history is not walked again,
        // so it gets the remembered measurement, not the folder's new size.
        try Data(count: 9000).write(to: URL(fileURLWithPath: "\(folder)/l1/diff/app"))
        let copy = try await engine.measureImage("copy")
        #expect(copy.sizeBytes == 5000 && copy.layers.map(\.instruction) == ["COPY app /app"])
        let otherHistory = try await engine.measureImage("other-history")
        #expect(otherHistory.layers.map(\.instruction) == ["COPY app /elsewhere"])
        let otherLayer = try await engine.measureImage("other-layer")
        #expect(otherLayer.sizeBytes == 7000 && otherLayer.diffIDs == ["sha256:2"])
    }
}

@Suite("Base images asked once a minute")
struct BaseImageMemoTests {
    @Test func aSecondMeasurementAsksForTheAnswerAloneAndStillNamesItsBase() async throws {
        let folder = NSTemporaryDirectory() + "handson-bases-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for layer in ["base", "own-1", "own-2"] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(layer)", withIntermediateDirectories: true)
            try Data(count: 100).write(to: URL(fileURLWithPath: "\(folder)/\(layer)/file-\(layer)"))
        }
        let runner = FakeProcessRunner()
        runner.on(["podman", "image", "inspect"]) { request in
            let lines = request.arguments.dropFirst(4).map { reference -> String in
                let (upper, diffIDs, tags) =
                    switch reference {
                    case "docker.io/library/golang:1.19":
                        ("base", #"["sha256:b"]"#, #"["docker.io/library/golang:1.19"]"#)
                    // The same layers as golang:1.19: of two such candidates, the first named is the base.
                    case "docker.io/library/busybox:1.36":
                        ("base", #"["sha256:b"]"#, #"["docker.io/library/busybox:1.36"]"#)
                    case "answer-1": ("own-1", #"["sha256:b","sha256:1"]"#, "[]")
                    default: ("own-2", #"["sha256:b","sha256:2"]"#, "[]")
                    }
                let digit = reference.hasPrefix("answer-") ? String(reference.suffix(1)) : "\(reference.count % 10)"
                let id = "sha256:" + String(repeating: digit, count: 64)
                let lower = upper == "base" ? "" : #","LowerDir":"\#(folder)/base""#
                return
                    "\(id)\t{\"Data\":{\"UpperDir\":\"\(folder)/\(upper)\"\(lower)},\"Name\":\"overlay\"}\t\(diffIDs)\t\(tags)\t[]"
            }
            return (0, lines.joined(separator: "\n") + "\n", "")
        }
        let engine = ContainerEngine(kind: .podman, runner: runner, environment: [:])
        // The answer's own base named again among the lab images: asked once.
        let candidates = ["golang:1.19", "busybox:1.36", "docker.io/library/golang:1.19"]
        let first = try await engine.measureImage("answer-1", baseCandidates: candidates)
        let second = try await engine.measureImage("answer-2", baseCandidates: candidates)
        let inspected = runner.commands.filter { $0.starts(with: ["podman", "image", "inspect"]) }.map {
            Array($0.dropFirst(5))
        }
        #expect(
            inspected == [
                ["answer-1", "docker.io/library/golang:1.19", "docker.io/library/busybox:1.36"], ["answer-2"],
            ])
        #expect(first.baseImage == "golang:1.19" && second.baseImage == "golang:1.19")
    }

    @Test func anAnswerOlderThanTheLifetimeOrAnImageTheEngineLackedIsAskedAgain() {
        let memo = BaseImageMemo()
        let start = ContinuousClock.now
        let lacked: InspectedImage? = nil
        memo.remember(["golang:1.19": InspectedImage(inspectLine: "sha256:1"), "busybox": lacked], now: start)
        #expect(memo.recall(["golang:1.19", "busybox"], now: start + .seconds(59)).keys.sorted() == ["golang:1.19"])
        #expect(memo.recall(["golang:1.19"], now: start + BaseImageMemo.lifetime).isEmpty)
    }
}
