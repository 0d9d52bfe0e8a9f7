import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

@Suite("Build limits")
struct BuildLimitsTests {
    @Test(arguments: [
        ("512m", Int64(512) << 20), ("1g", Int64(1) << 30), ("1GiB", Int64(1) << 30), ("2048k", Int64(2) << 20),
        ("1.5g", Int64(3) << 29), ("1073741824", Int64(1) << 30),
    ])
    func memorySizesReadAsDockersMemoryFlagReadsThem(text: String, bytes: Int64) {
        #expect(BuildLimits.parseMemory(text) == bytes)
    }

    @Test(arguments: ["", "lots", "-1g", "1t", "0"])
    func badMemorySizesAreRefused(text: String) async {
        #expect(BuildLimits.parseMemory(text) == nil)
    }

    @Test func theSummaryNamesEveryLimit() async {
        var limits = BuildLimits()
        let expected: [Message] = [
            Message(.limits.part.memory, ["memory": "1GiB"]), Message(.limits.part.processes, count: 1024),
            Message(.limits.part.disk, ["disk": "10GiB"]), Message(.limits.part.network.default),
            Message(.limits.part.timeout, ["seconds": "300"]),
        ]
        #expect(limits.summaryMessage == Message.list(expected))
        limits.cpus = 0.5
        limits.memoryBytes = 1536 << 20
        limits.diskBytes = 512 << 20
        limits.network = .none
        let parts = (limits.summaryMessage.then ?? []).filter { $0.key != "list.separator" }
        #expect(limits.summaryMessage.values == ["memory": "1.5GiB"])
        #expect(
            parts.map(\.key) == [
                "limits.part.processes", "limits.part.cpus", "limits.part.disk", "limits.part.network.none",
                "limits.part.timeout",
            ])
        #expect(parts[1].values == ["count": "0.5"] && parts[2].values == ["disk": "512MiB"])
    }

    @Test func podmansBuilderGetsAChildOfTheCgroup() async {
        let cgroup = BuildCgroup(path: "/handson/abc", version: .v1, root: "/sys/fs/cgroup", limits: BuildLimits())
        #expect(cgroup.parentArgument(for: .buildkit) == "/handson/abc")
        #expect(cgroup.parentArgument(for: .classic) == "/handson/abc")
        #expect(cgroup.parentArgument(for: .buildah) == "/handson/abc/build")
    }
}

/// A cgroup file system laid out in a temporary folder: the control files a kernel would show, written and read as
/// HandsOn writes and reads them.
@Suite("Build cgroups on a cgroup tree")
struct BuildCgroupTests {
    static func fakeRoot(v2: Bool, id: String) throws -> String {
        let root = NSTemporaryDirectory() + "handson-cgroup-\(UUID().uuidString.prefix(8))"
        let fileManager = FileManager.default
        if v2 {
            for folder in [root, "\(root)/handson", "\(root)/handson/\(id)"] {
                try fileManager.createDirectory(atPath: folder, withIntermediateDirectories: true)
                _ = fileManager.createFile(atPath: "\(folder)/cgroup.subtree_control", contents: Data())
            }
            _ = fileManager.createFile(atPath: "\(root)/cgroup.controllers", contents: Data("cpu memory pids".utf8))
            for file in ["memory.max", "memory.swap.max", "pids.max", "cpu.max", "memory.events", "pids.events"] {
                _ = fileManager.createFile(atPath: "\(root)/handson/\(id)/\(file)", contents: Data())
            }
        } else {
            let files = [
                "memory": ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.max_usage_in_bytes"],
                "pids": ["pids.max", "pids.events", "pids.peak"], "cpu": ["cpu.cfs_period_us", "cpu.cfs_quota_us"],
            ]
            for (hierarchy, names) in files {
                try fileManager.createDirectory(
                    atPath: "\(root)/\(hierarchy)/handson/\(id)", withIntermediateDirectories: true)
                for name in names {
                    _ = fileManager.createFile(atPath: "\(root)/\(hierarchy)/handson/\(id)/\(name)", contents: Data())
                }
            }
        }
        return root
    }

    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// A build's cgroup goes with the cgroups BuildKit made beneath it, deepest first (a cgroup with a child refuses
    /// to go); the control files in each are no cgroups. Here on a plain file system, where a file left in a folder
    /// stops its removal as a child cgroup would.
    @Test func aCgroupTreeIsRemovedDeepestFirst() throws {
        let root = NSTemporaryDirectory() + "handson-cgroup-tree-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for folder in ["buildkit/a1/b1/c1", "buildkit/a1/b2", "buildkit/a2", "other"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
        }
        _ = FileManager.default.createFile(atPath: "\(root)/buildkit/a1/b2/left", contents: Data())
        let tree = CgroupDirectory(path: root)
        #expect(!tree.removeEmptyTree(), "a folder holding a file stays, and so do the folders above it")
        let left = Set(FileManager.default.subpaths(atPath: root) ?? [])
        #expect(left == ["buildkit", "buildkit/a1", "buildkit/a1/b2", "buildkit/a1/b2/left"])
        try FileManager.default.removeItem(atPath: "\(root)/buildkit/a1/b2/left")
        #expect(tree.removeEmptyTree())
        #expect(!FileManager.default.fileExists(atPath: root))
    }

    @Test func v1LimitsAreWrittenAndABreachIsReadFromThePeaks() async throws {
        let root = try Self.fakeRoot(v2: false, id: "g1")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var limits = BuildLimits()
        limits.cpus = 1.5
        let cgroup = try BuildCgroup.create(id: "g1", limits: limits, root: root)
        #expect(cgroup.version == .v1)
        #expect(Self.read("\(root)/memory/handson/g1/memory.limit_in_bytes") == "1073741824")
        #expect(Self.read("\(root)/memory/handson/g1/memory.memsw.limit_in_bytes") == "1073741824")
        #expect(Self.read("\(root)/pids/handson/g1/pids.max") == "1024")
        #expect(Self.read("\(root)/cpu/handson/g1/cpu.cfs_quota_us") == "150000")
        #expect(cgroup.breaches().isEmpty)
        try "1073741824\n".write(
            toFile: "\(root)/memory/handson/g1/memory.max_usage_in_bytes", atomically: false, encoding: .utf8)
        try "1024\n".write(toFile: "\(root)/pids/handson/g1/pids.peak", atomically: false, encoding: .utf8)
        #expect(cgroup.breaches() == [.memory, .processes])
    }

    @Test func v2ControllersAreHandedDownAndEventsCountBreaches() async throws {
        let root = try Self.fakeRoot(v2: true, id: "g2")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cgroup = try BuildCgroup.create(id: "g2", limits: BuildLimits(), root: root)
        #expect(cgroup.version == .v2)
        #expect(Self.read("\(root)/cgroup.subtree_control") == "+memory +pids +cpu")
        #expect(Self.read("\(root)/handson/g2/cgroup.subtree_control") == "+memory +pids +cpu")
        #expect(Self.read("\(root)/handson/g2/memory.max") == "1073741824")
        #expect(Self.read("\(root)/handson/g2/memory.swap.max") == "0")
        #expect(Self.read("\(root)/handson/g2/pids.max") == "1024")
        try "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n".write(
            toFile: "\(root)/handson/g2/memory.events", atomically: false, encoding: .utf8)
        #expect(cgroup.breaches() == [.memory])
    }

    @Test func aMissingHierarchyIsSaidPlainly() async throws {
        let root = NSTemporaryDirectory() + "handson-cgroup-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: "\(root)/memory", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let noPids = Message(.error.cgroup.noHierarchy, ["hierarchy": "pids", "path": "\(root)/pids"])
        #expect(throws: BuildCgroupError.unavailable(noPids)) {
            _ = try BuildCgroup.create(id: "g3", limits: BuildLimits(), root: root)
        }
    }
}

@Suite("BuildKit's cache records")
struct BuildCacheTests {
    @Test func idsAreReadFromACapturedVerboseListing() async throws {
        let text = try String(
            contentsOfFile: ListingFixtures.directory + "/../buildcache/buildx-du-verbose.txt", encoding: .utf8)
        let ids = ContainerEngine.buildCacheIDs(inVerboseListing: text)
        #expect(ids.count == text.components(separatedBy: "\nID:").count - (text.hasPrefix("ID:") ? 0 : 1))
        #expect(ids.count == 12)
        #expect(ids.contains("gijqluskn9dbf9j067c6nnv91"))
    }
}
