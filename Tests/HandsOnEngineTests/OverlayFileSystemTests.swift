import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnFormats

@Suite("Layers stacked as overlayfs stacks them")
struct OverlayFileSystemTests {
    static func file(_ path: String, _ bytes: Int64) -> LayerEntry { LayerEntry(path: path, kind: .file, bytes: bytes) }
    static func directory(_ path: String) -> LayerEntry { LayerEntry(path: path, kind: .directory, bytes: 0) }

    @Test func aDeletedFileAndAnOverwrittenOneAreWasted() async {
        let overlay = OverlayFileSystem()
        overlay.apply([Self.directory("data"), Self.file("data/big", 40), Self.file("data/keep", 7)], layer: 1)
        overlay.apply([LayerEntry(path: "data/big", kind: .whiteout, bytes: 0), Self.file("data/keep", 3)], layer: 2)
        #expect(
            overlay.wasted.sorted { $0.bytes > $1.bytes } == [
                WastedFile(path: "/data/big", bytes: 40, addedBy: 1, hiddenBy: 2),
                WastedFile(path: "/data/keep", bytes: 7, addedBy: 1, hiddenBy: 2),
            ])
        let sizes = Dictionary(uniqueKeysWithValues: overlay.sizes().map { ($0.path, $0) })
        #expect(sizes["/data"]?.bytes == 3)
        #expect(sizes["/data/keep"]?.layer == 2)
        #expect(sizes["/data/big"] == nil)
    }

    @Test func anOpaqueDirectoryHidesOnlyWhatLowerLayersPutThere() async {
        let overlay = OverlayFileSystem()
        overlay.apply(
            [Self.file("tree/sub/old", 500), Self.file("tree/other", 20), Self.file("elsewhere", 9)], layer: 1)
        // The layer's own new file comes before its opaque marker in the archive: it stays.
        overlay.apply(
            [
                Self.directory("tree"), Self.file("tree/new", 2),
                LayerEntry(path: "tree", kind: .opaqueDirectory, bytes: 0),
            ], layer: 2)
        #expect(Set(overlay.wasted.map(\.path)) == ["/tree/sub/old", "/tree/other"])
        let paths = Set(overlay.sizes().map(\.path))
        #expect(paths == ["/tree", "/tree/new", "/elsewhere"])
    }

    @Test func aWhiteoutOfADirectoryHidesEverythingBeneath() async {
        let overlay = OverlayFileSystem()
        overlay.apply([Self.file("a/b/c", 10), Self.file("a/b/d", 5), Self.file("a/e", 1)], layer: 1)
        overlay.apply([LayerEntry(path: "a/b", kind: .whiteout, bytes: 0)], layer: 3)
        #expect(overlay.wasted.reduce(0) { $0 + $1.bytes } == 15)
        #expect(overlay.wasted.allSatisfy { $0.addedBy == 1 && $0.hiddenBy == 3 })
        #expect(overlay.sizes().first { $0.path == "/a" }?.bytes == 1)
    }

    @Test func aFileReplacedByADirectoryIsHidden() async {
        let overlay = OverlayFileSystem()
        overlay.apply([Self.file("thing", 50)], layer: 1)
        overlay.apply([Self.file("thing/inside", 4)], layer: 2)
        #expect(overlay.wasted == [WastedFile(path: "/thing", bytes: 50, addedBy: 1, hiddenBy: 2)])
        #expect(overlay.sizes().first { $0.path == "/thing" }?.isDirectory == true)
    }

    @Test func aWhiteoutOfWhatIsNotThereChangesNothing() async {
        let overlay = OverlayFileSystem()
        overlay.apply([Self.file("x", 1)], layer: 1)
        overlay.apply([LayerEntry(path: "missing/y", kind: .whiteout, bytes: 0)], layer: 2)
        #expect(overlay.wasted.isEmpty)
        #expect(overlay.sizes().map(\.path) == ["/x"])
    }

    @Test func aDirectorysLayerIsTheOneThatAddedMostOfItsBytes() async {
        let overlay = OverlayFileSystem()
        overlay.apply([Self.file("app/small", 10)], layer: 1)
        overlay.apply([Self.file("app/large", 90)], layer: 2)
        #expect(
            overlay.sizes().first { $0.path == "/app" }
                == PathSize(path: "/app", bytes: 100, isDirectory: true, layer: 2))
    }

    @Test(arguments: [
        ("./usr/bin/go", LayerEntry(path: "usr/bin/go", kind: .file, bytes: 12)),
        ("etc/.wh.passwd-", LayerEntry(path: "etc/passwd-", kind: .whiteout, bytes: 0)),
        ("var/cache/.wh..wh..opq", LayerEntry(path: "var/cache", kind: .opaqueDirectory, bytes: 0)),
        (".wh.big.bin", LayerEntry(path: "big.bin", kind: .whiteout, bytes: 0)),
        ("srv/", LayerEntry(path: "srv", kind: .directory, bytes: 0)),
    ])
    func tarEntriesBecomeOverlayEntries(path: String, expected: LayerEntry) {
        let kind: TarEntryHeader.Kind = path.hasSuffix("/") ? .directory : .file
        let size: Int64 = expected.kind == .file ? 12 : 0
        #expect(LayerEntry(TarEntryHeader(path: path, kind: kind, size: size, linkTarget: "")) == expected)
    }

    @Test func anEntryAfterItsFolderWasDeletedInTheSameLayerMakesTheFolderAgain() async {
        let overlay = OverlayFileSystem()
        overlay.apply([Self.file("a/b/c", 10)], layer: 1)
        // The folder of `a/b/x` is the one `a/b/c` used; a whiteout takes it out between them, a file replaces it.
        overlay.apply(
            [
                Self.file("a/b/d", 1), LayerEntry(path: "a/b", kind: .whiteout, bytes: 0), Self.file("a/b/x", 2),
                Self.file("a/y", 3), Self.file("a", 4), Self.file("a/z", 5),
            ], layer: 2)
        let sizes = Dictionary(uniqueKeysWithValues: overlay.sizes().map { ($0.path, $0.bytes) })
        #expect(sizes == ["/a": 5, "/a/z": 5])
        // c and d (the folder deleted), x and y (in the folder the file `a` replaced), then `a` itself.
        let wastedBytes: Int64 = overlay.wasted.reduce(0) { $0 + $1.bytes }
        #expect(wastedBytes == 20)
    }

    /// Layers stacked the plain way: every path of the final file system in a dictionary, what is hidden summed.
    struct PlainStack {
        var files: [String: (bytes: Int64, layer: Int)] = [:]
        var directories: [String: Int] = [:]
        var wastedBytes: Int64 = 0

        mutating func hide(_ path: String) {
            if let file = files.removeValue(forKey: path) { wastedBytes += file.bytes }
            directories.removeValue(forKey: path)
            for key in files.keys where key.hasPrefix(path + "/") {
                wastedBytes += files.removeValue(forKey: key)!.bytes
            }
            for key in directories.keys where key.hasPrefix(path + "/") { directories.removeValue(forKey: key) }
        }

        /// Makes every folder of `path` (and `path` itself when `including`), hiding a file in the way.
        mutating func makeFolders(_ path: String, including: Bool, layer: Int) {
            let parts = path.split(separator: "/").map(String.init)
            for count in 1...parts.count where including || count < parts.count {
                let folder = parts.prefix(count).joined(separator: "/")
                if files[folder] != nil { hide(folder) }
                if directories[folder] == nil { directories[folder] = layer }
            }
        }

        mutating func apply(_ entries: [LayerEntry], layer: Int) {
            for entry in entries {
                let parts = entry.path.split(separator: "/").map(String.init)
                let parent = parts.dropLast().joined(separator: "/")
                switch entry.kind {
                case .whiteout:
                    var parentThere = true
                    for count in 1..<max(parts.count, 1)
                    where directories[parts.prefix(count).joined(separator: "/")] == nil {
                        parentThere = false
                    }
                    if parentThere { hide(entry.path) }
                case .opaqueDirectory:
                    makeFolders(entry.path, including: true, layer: layer)
                    var children: Set<String> = []
                    for path in Array(files.keys) + Array(directories.keys) where path.hasPrefix(entry.path + "/") {
                        let rest = path.dropFirst(entry.path.count + 1)
                        children.insert(entry.path + "/" + String(rest.prefix { $0 != "/" }))
                    }
                    for child in children {
                        let addedBy: Int = files[child]?.layer ?? directories[child] ?? layer
                        if addedBy < layer { hide(child) }
                    }
                case .directory:
                    makeFolders(entry.path, including: true, layer: layer)
                default:
                    if !parent.isEmpty { makeFolders(parent, including: true, layer: layer) }
                    hide(entry.path)
                    files[entry.path] = (entry.bytes, layer)
                }
            }
        }
    }

    @Test(arguments: 1...40)
    func randomLayersStackAsThePlainWayStacksThem(seed: Int) async {
        var random = SplitMix64(seed: UInt64(seed))
        let names = ["a", "b", "c"]
        let overlay = OverlayFileSystem()
        var plain = PlainStack()
        for layer in 1...4 {
            let kinds: [LayerEntry.Kind] = [.file, .file, .file, .directory, .whiteout, .opaqueDirectory]
            var entries: [LayerEntry] = []
            for _ in 0..<Int.random(in: 1...12, using: &random) {
                var parts: [String] = []
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    parts.append(names.randomElement(using: &random)!)
                }
                let kind = kinds.randomElement(using: &random)!
                // Few sizes, so that paths of equal sizes meet at the edge of the largest.
                let bytes: Int64 = kind == .file ? 5 * Int64.random(in: 1...8, using: &random) : 0
                entries.append(LayerEntry(path: parts.joined(separator: "/"), kind: kind, bytes: bytes))
            }
            overlay.apply(entries, layer: layer)
            plain.apply(entries, layer: layer)
        }
        let sizes = overlay.sizes()
        var stackedFiles: [String: Int64] = [:]
        for entry in sizes where !entry.isDirectory { stackedFiles[entry.path] = entry.bytes }
        var plainFiles: [String: Int64] = [:]
        for (path, file) in plain.files { plainFiles["/" + path] = file.bytes }
        #expect(stackedFiles == plainFiles)
        let stackedDirectories: Set<String> = Set(sizes.filter(\.isDirectory).map(\.path))
        let plainDirectories: Set<String> = Set(plain.directories.keys.map { "/" + $0 })
        #expect(stackedDirectories == plainDirectories)
        let wastedBytes: Int64 = overlay.wasted.reduce(0) { $0 + $1.bytes }
        #expect(wastedBytes == plain.wastedBytes)
        for directory in sizes where directory.isDirectory {
            var beneath: Int64 = 0
            for (path, bytes) in plainFiles where path.hasPrefix(directory.path + "/") { beneath += bytes }
            #expect(directory.bytes == beneath)
        }
        // What a measurement reads off the stack in one walk is what the plain reading of every path's size gives.
        let limit = Int.random(in: 0...4, using: &random)
        let atLeast = Int64.random(in: 1...30, using: &random)
        let depth = Int.random(in: 1...3, using: &random)
        let summary = overlay.summary(largest: limit, atLeast: atLeast, shallowDepth: depth)
        #expect(summary.largest == PlainSummary.largest(sizes, limit: limit, atLeast: atLeast))
        #expect(summary.shallow == PlainSummary.shallow(sizes, depth: depth))
    }

    @Test func theLargestPathsLeaveOutADirectoryItsChildAllButFills() async {
        let overlay = OverlayFileSystem()
        overlay.apply(
            [
                LayerEntry(path: "usr/lib/go/bin/go", kind: .file, bytes: 60),
                LayerEntry(path: "usr/lib/libc.so", kind: .file, bytes: 38),
                LayerEntry(path: "usr/bin/sh", kind: .file, bytes: 2),
            ], layer: 1)
        // /usr (100) is all but filled by /usr/lib (98), /usr/lib/go (60) by /usr/lib/go/bin, and that by its go.
        #expect(
            overlay.summary(largest: 3, atLeast: 1, shallowDepth: 0).largest.map(\.path) == [
                "/usr/lib", "/usr/lib/go/bin/go", "/usr/lib/libc.so",
            ])
        #expect(
            overlay.summary(largest: 3, atLeast: 39, shallowDepth: 0).largest.map(\.path) == [
                "/usr/lib", "/usr/lib/go/bin/go",
            ])
        #expect(
            overlay.summary(largest: 0, atLeast: 1, shallowDepth: 2).shallow == [
                "/usr": 100, "/usr/lib": 98, "/usr/bin": 2,
            ])
    }

    /// A folder that one child fills to 95% or more is left out; at 94% it is listed.
    @Test(arguments: [(95, false), (96, false), (94, true), (92, true)])
    func aFolderIsLeftOutFromNinetyFivePercentOfOneChild(child: Int64, folderListed: Bool) {
        let overlay = OverlayFileSystem()
        overlay.apply(
            [
                LayerEntry(path: "app/big", kind: .file, bytes: child),
                LayerEntry(path: "app/small", kind: .file, bytes: 100 - child),
            ], layer: 1)
        let listed = overlay.summary(largest: 5, atLeast: 1, shallowDepth: 0).largest.map(\.path)
        #expect(listed.contains("/app") == folderListed, "\(listed)")
        #expect(listed.contains("/app/big"))
    }
}

/// What a measurement reads off the final file system, written plainly from every path's size (`sizes()`): what
/// `OverlayFileSystem.summary` must give.
enum PlainSummary {
    static func largest(_ sizes: [PathSize], limit: Int, atLeast: Int64) -> [PathSize] {
        var largestChild: [String: Int64] = [:]
        for entry in sizes {
            let parent = (entry.path as NSString).deletingLastPathComponent
            largestChild[parent] = max(largestChild[parent] ?? 0, entry.bytes)
        }
        let telling = sizes.filter { entry in
            entry.bytes >= atLeast
                && !(entry.isDirectory && Double(largestChild[entry.path] ?? 0) >= 0.95 * Double(entry.bytes))
        }
        return Array(
            telling.sorted { $0.bytes > $1.bytes || ($0.bytes == $1.bytes && $0.path < $1.path) }.prefix(limit))
    }

    static func shallow(_ sizes: [PathSize], depth: Int) -> [String: Int64] {
        Dictionary(
            uniqueKeysWithValues: sizes.filter { $0.path.split(separator: "/").count <= depth }.map {
                ($0.path, $0.bytes)
            })
    }
}

@Suite("The instruction behind each layer")
struct LayerHistoryTests {
    @Test(
        arguments: [
            ("/bin/sh -c #(nop) COPY file:3f2a in /app ", nil, "COPY file:3f2a in /app"),
            ("/bin/sh -c go build -o /hash hash.go", nil, "RUN go build -o /hash hash.go"),
            (
                "RUN /bin/sh -c CGO_ENABLED=0 go build -o /hash hash.go # buildkit", nil,
                "RUN CGO_ENABLED=0 go build -o /hash hash.go"
            ),
            ("COPY /hash /hash # buildkit", nil, "COPY /hash /hash"),
            ("WORKDIR /src", nil, "WORKDIR /src"),
            ("", "Imported from -", "imported"),
            ("", "made by a tool", "imported (made by a tool)"),
        ] as [(String, String?, String)])
    func eachBuildersWordingBecomesTheDockerfileLine(createdBy: String, comment: String?, expected: String) {
        #expect(LayerHistory.instruction(createdBy, comment: comment) == expected)
    }

    @Test func emptyLayersAreSkippedAndAMismatchGivesNoInstructions() async throws {
        let history = try JSONDecoder().decode(
            [ImageConfig.HistoryEntry].self,
            from: Data(
                """
                [{"created_by": "", "comment": "Imported from -"},
                 {"created_by": "/bin/sh -c #(nop)  ENV A=b", "empty_layer": true},
                 {"created_by": "/bin/sh -c make"}]
                """.utf8))
        #expect(LayerHistory.instructions(history, layerCount: 2) == ["imported", "RUN make"])
        #expect(LayerHistory.instructions(history, layerCount: 3) == nil)
    }
}
