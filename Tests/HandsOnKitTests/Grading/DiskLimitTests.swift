import Foundation
import HandsOnTestSupport
import Synchronization
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnReports

/// A file system whose free and used space a test sets.
final class FakeDisk: DiskSpaceReading {
    private let state: Mutex<(free: Int64, used: Int64)>

    init(free: Int64, used: Int64 = 0) { state = Mutex((free, used)) }

    func set(free: Int64? = nil, used: Int64? = nil) {
        state.withLock {
            if let free { $0.free = free }
            if let used { $0.used = used }
        }
    }

    func space(at path: String) -> DiskSpace? {
        state.withLock { DiskSpace(device: 7, freeBytes: $0.free, usedBytes: $0.used) }
    }
}

/// A cgroup tree and the `/proc` entries of its processes, laid out in a temporary folder.
struct FakeProcessTree {
    let root: String
    var cgroup: String { "\(root)/cgroup" }
    var proc: String { "\(root)/proc" }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("handson-writes-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(root)/cgroup/step", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(root)/proc", withIntermediateDirectories: true)
        try set(cgroupOf: [], step: [])
    }

    /// Which pids the cgroup and its child `step` list.
    func set(cgroupOf top: [Int32], step: [Int32]) throws {
        try top.map(String.init).joined(separator: "\n").write(
            toFile: "\(cgroup)/cgroup.procs", atomically: true, encoding: .utf8)
        try step.map(String.init).joined(separator: "\n").write(
            toFile: "\(cgroup)/step/cgroup.procs", atomically: true, encoding: .utf8)
    }

    func process(_ pid: Int32, parent: Int32, written: Int64, cancelled: Int64 = 0) throws {
        try FileManager.default.createDirectory(atPath: "\(proc)/\(pid)", withIntermediateDirectories: true)
        let io =
            "rchar: 1\nwchar: \(written)\nsyscr: 1\nsyscw: 1\nread_bytes: 0\nwrite_bytes: \(written)\n"
            + "cancelled_write_bytes: \(cancelled)\n"
        try io.write(toFile: "\(proc)/\(pid)/io", atomically: true, encoding: .utf8)
        try "\(pid) (sh (x) y) S \(parent) 1 1 0 -1".write(
            toFile: "\(proc)/\(pid)/stat", atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

@Suite("The disk limit and the reserve")
struct DiskLimitTests {
    @Test func anIoFileAndAStatLineAreRead() {
        let io = "rchar: 524323712\nwchar: 524288000\nwrite_bytes: 524304384\ncancelled_write_bytes: 314572800\n"
        let counts = ProcessWrites.parse(io: io)
        #expect(counts?.written == 524_304_384)
        #expect(counts?.cancelled == 314_572_800)
        #expect(ProcessWrites.parse(io: "rchar: 1\n") == nil)
        // A name with spaces and parentheses: the parent is counted from the last ')'.
        #expect(ProcessWrites.parent(inStat: "42 (a) b (c) S 17 42 42 0") == 17)
        #expect(ProcessWrites.parent(inStat: "garbage") == nil)
    }

    @Test func theMeterCountsTheTreeAndKeepsWhatEndedProcessesWrote() throws {
        let tree = try FakeProcessTree()
        defer { tree.remove() }
        let meter = CgroupWriteMeter(directories: [tree.cgroup], processRoot: tree.proc)
        #expect(meter.read() == 0)
        // A step's shell (parent 1, outside the tree) and its child writing; a dropped write is taken off.
        try tree.process(100, parent: 1, written: 1000)
        try tree.process(101, parent: 100, written: 5000, cancelled: 2000)
        try tree.set(cgroupOf: [], step: [100, 101])
        #expect(meter.read() == 4000)
        // The child ends and its shell reaps it: the shell's count now holds it, and nothing is counted twice.
        try tree.process(100, parent: 1, written: 4000)
        try tree.set(cgroupOf: [], step: [100])
        #expect(meter.read() == 4000)
        // The step ends (its shell reaped outside the tree): what it wrote is kept; the next step adds to it.
        try tree.process(200, parent: 1, written: 700)
        try tree.set(cgroupOf: [200], step: [])
        #expect(meter.read() == 4700)
        // Never less than before, even when a process's count cannot be read any more.
        try tree.set(cgroupOf: [], step: [])
        #expect(meter.read() == 4700)
    }

    /// `/proc/PID/cgroup` of a container's process as a v1 host with a unified hierarchy beside it shows it (this
    /// machine, Podman), and as a v2 host does.
    @Test func aContainersCgroupIsReadFromItsProcess() {
        let hybrid = """
            9:name=systemd:/libpod_parent/libpod-985b
            8:pids:/libpod_parent/libpod-985b
            4:memory:/libpod_parent/libpod-985b
            0::/libpod_parent/libpod-985b
            """
        #expect(CgroupWriteMeter.cgroupPath(in: hybrid)?.directory == "/pids/libpod_parent/libpod-985b")
        let unified = "0::/system.slice/docker-4a1c.scope\n"
        #expect(CgroupWriteMeter.cgroupPath(in: unified)?.directory == "/system.slice/docker-4a1c.scope")
        #expect(CgroupWriteMeter.cgroupPath(in: "0::/\n")?.directory == "")
        #expect(CgroupWriteMeter.cgroupPath(in: "garbage") == nil)
        #expect(
            HealthProbe.enterNamespace(processID: 42, joinsUserNamespace: true) == [
                "nsenter", "--target", "42", "--user", "--preserve-credentials", "--net", "--",
            ])
    }

    /// The meter kills what it attaches to, so only a container's own cgroup is taken: never a root, a path from
    /// outside the namespace, a tree that does not list the container's process, or one that holds the grader.
    @Test func onlyACgroupTheContainerIsAloneInIsAttached() throws {
        let tree = try FakeProcessTree()
        defer { tree.remove() }
        func attaches(_ cgroupFile: String, listed: [Int32]) throws -> Bool {
            try FileManager.default.createDirectory(atPath: "\(tree.proc)/300", withIntermediateDirectories: true)
            try cgroupFile.write(toFile: "\(tree.proc)/300/cgroup", atomically: true, encoding: .utf8)
            try tree.set(cgroupOf: [], step: listed)
            return CgroupWriteMeter(directories: [], processRoot: tree.proc).attach(
                processID: 300, cgroupRoot: tree.root)
        }
        // `root/cgroup/step` stands for the container's cgroup.
        #expect(try attaches("0::/cgroup/step\n", listed: [300]))
        #expect(try !attaches("0::/cgroup/step\n", listed: [301]))
        #expect(try !attaches("0::/cgroup/step\n", listed: [300, getpid()]))
        #expect(try !attaches("0::/cgroup/step\n", listed: [300, 1]))
        #expect(try !attaches("0::/\n", listed: [300]))
        #expect(try !attaches("8:pids:/\n0::/\n", listed: [300]))
        #expect(try !attaches("0::/../cgroup/step\n", listed: [300]))
        #expect(CgroupWriteMeter.isContainersOwn("/pids/docker/4a1c"))
        #expect(!CgroupWriteMeter.isContainersOwn("/pids"))
        // Nothing is killed in a tree that holds this process: the run would end here otherwise.
        try tree.set(cgroupOf: [getpid()], step: [])
        CgroupDirectory(path: tree.cgroup).killEverything()
    }

    @Test func theReserveNamesTheFolderShortOfSpace() {
        let disk = FakeDisk(free: 6 << 30)
        let reserve = DiskReserve(bytes: 5 << 30, folders: ["/var/lib/docker", "/tmp/results-not-made-yet"])
        #expect(reserve.shortfall(disk) == nil)
        disk.set(free: 3 << 30)
        let shortfall = reserve.shortfall(disk)
        #expect(shortfall == DiskShortfall(folder: "/var/lib/docker", freeBytes: 3 << 30, reserveBytes: 5 << 30))
        #expect(shortfall?.message.key == "disk.reserve.shortfall")
        #expect(shortfall?.message.values["free"] == "3GiB")
        #expect(DiskReserve.existingAncestor(of: "/tmp/results-not-made-yet/a/b") == "/tmp")
    }

    static func watch(limit: Int64?, meter: CgroupWriteMeter? = nil, disk: FakeDisk, claims: DiskClaims = DiskClaims())
        -> DiskWatch
    {
        var watch = DiskWatch(
            limitBytes: limit, meter: meter, engineFolders: ["/var/lib/docker"],
            reserve: DiskReserve(bytes: 1 << 30, folders: ["/var/lib/docker"]), disk: disk, claims: claims)
        watch.interval = .milliseconds(10)
        return watch
    }

    @Test func aBuildWritingPastItsLimitIsStoppedAndTheStopIsTold() async throws {
        let tree = try FakeProcessTree()
        defer { tree.remove() }
        try tree.process(100, parent: 1, written: 0)
        try tree.set(cgroupOf: [], step: [100])
        let disk = FakeDisk(free: 50 << 30)
        let watch = Self.watch(
            limit: 1 << 20, meter: CgroupWriteMeter(directories: [tree.cgroup], processRoot: tree.proc), disk: disk)
        let stops = Mutex<[DiskStop]>([])
        let (result, stoppedBy) = try await watch.watching {
            // The "build" writes past the limit, then runs until it is cancelled.
            try tree.process(100, parent: 1, written: 3 << 20)
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
            return "cancelled"
        } stop: { reason in
            stops.withLock { $0.append(reason) }
        }
        #expect(result == "cancelled")
        #expect(stoppedBy == .limit(bytes: 3 << 20))
        #expect(stops.withLock { $0 } == [.limit(bytes: 3 << 20)])
    }

    @Test func spaceTheDiskLosesIsChargedOnlyToAWatchThatIsAlone() async throws {
        let disk = FakeDisk(free: 50 << 30, used: 10 << 30)
        let claims = DiskClaims()
        // Alone: the builder's own writes (no process of the build wrote) are charged.
        let alone = try await Self.watch(limit: 1 << 30, disk: disk, claims: claims).watching {
            disk.set(used: 12 << 30)
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
            return 0
        } stop: { _ in
        }
        #expect(alone.stoppedBy == .limit(bytes: 2 << 30))
        // Beside another watch on the same disk: the loss may be the other's, so it is not charged to either.
        disk.set(used: 10 << 30)
        let other = await claims.begin([7])
        defer { claims.end(other) }
        let shared = try await Self.watch(limit: 1 << 30, disk: disk, claims: claims).watching {
            disk.set(used: 12 << 30)
            try? await Task.sleep(for: .milliseconds(100))
            return 1
        } stop: { _ in
        }
        #expect(shared.result == 1)
        #expect(shared.stoppedBy == nil)
    }

    /// An exclusive claim waits for the claims on its disk to end, and the claims after it wait for it; another disk
    /// is not held up.
    @Test func anExclusiveClaimHasTheDiskToItself() async throws {
        let claims = DiskClaims()
        let order = LockedBox<[String]>([])
        let first = await claims.begin([7])
        let exclusive = Task {
            let id = await claims.begin([7], exclusive: true)
            order.withLock { $0.append("exclusive") }
            #expect(claims.isAlone(id))
            try? await Task.sleep(for: .milliseconds(50))
            order.withLock { $0.append("exclusive ends") }
            claims.end(id)
        }
        try await Task.sleep(for: .milliseconds(50))
        let later = Task {
            let id = await claims.begin([7])
            order.withLock { $0.append("later") }
            claims.end(id)
        }
        let elsewhere = await claims.begin([8])
        claims.end(elsewhere)
        try await Task.sleep(for: .milliseconds(50))
        #expect(order.withLock { $0 }.isEmpty, "nothing on disk 7 began while the first claim held it")
        claims.end(first)
        await exclusive.value
        await later.value
        #expect(order.withLock { $0 } == ["exclusive", "exclusive ends", "later"])
    }

    @Test func aCancelledWaitBeginsAtOnce() async throws {
        let claims = DiskClaims()
        let held = await claims.begin([7], exclusive: true)
        let waiting = Task { await claims.begin([7]) }
        try await Task.sleep(for: .milliseconds(30))
        waiting.cancel()
        let id = await waiting.value
        #expect(!claims.isAlone(id))
        claims.end(id)
        claims.end(held)
    }

    @Test func theHostRunningShortStopsTheBuildAsNotTheAnswersDoing() async throws {
        let disk = FakeDisk(free: 50 << 30)
        let (_, stoppedBy) = try await Self.watch(limit: nil, disk: disk).watching {
            disk.set(free: 512 << 20)
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
            return 0
        } stop: { _ in
        }
        #expect(
            stoppedBy == .reserve(DiskShortfall(folder: "/var/lib/docker", freeBytes: 512 << 20, reserveBytes: 1 << 30))
        )
    }

    @Test func aBuildThatEndsInTimeIsNotStopped() async throws {
        let (result, stoppedBy) = try await Self.watch(limit: 1 << 30, disk: FakeDisk(free: 50 << 30)).watching {
            "built"
        } stop: { _ in
            Issue.record("nothing to stop")
        }
        #expect(result == "built")
        #expect(stoppedBy == nil)
    }

    @Test func limitsSavedBeforeTheDiskLimitStillRead() throws {
        let old = #"{"memoryBytes":1073741824,"processes":1024,"timeoutSeconds":300}"#
        let limits = try JSONDecoder().decode(BuildLimits.self, from: Data(old.utf8))
        #expect(limits.diskBytes == BuildLimits.defaultDiskBytes)
        var changed = BuildLimits()
        changed.diskBytes = 256 << 20
        #expect(try JSONDecoder().decode(BuildLimits.self, from: JSONEncoder().encode(changed)) == changed)
    }
}

@Suite("Grading when the host is short of disk space")
struct DiskReserveGradingTests {
    @Test func aGradeOnAHostShortOfSpaceIsNotGradedAndBuildsNothing() async throws {
        let folder = try GradingCoreTests.classFolder(["ann": 5_000_000])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let runner = FakeEngines()
        var grader = try GradingCoreTests.grader(runner)
        grader.effects.disk = FakeDisk(free: 1 << 30)
        grader.reportFolders = [folder]
        let report = try await grader.grade("\(folder)/ann")
        #expect(report.status == .notGraded)
        #expect(report.score == 0)
        #expect(report.checks.map(\.id) == [.diskSpace])
        #expect(report.checks[0].reason?.key == "disk.reserve.shortfall")
        #expect(runner.calls.isEmpty, "\(runner.calls)")
    }

    /// A batch waits while the report folder is short of space, says so once, and grades every answer once space
    /// returns; nothing is scored while it waits.
    @Test func aBatchWaitsForSpaceAndThenGradesEveryAnswer() async throws {
        let folder = try GradingCoreTests.classFolder(["a1": 5_000_000, "a2": 50_000_000])
        let reports = NSTemporaryDirectory() + "handson-reports-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, reports] { try? FileManager.default.removeItem(atPath: path) } }
        let runner = FakeEngines()
        let disk = FakeDisk(free: 1 << 30)
        var grader = try GradingCoreTests.grader(runner)
        grader.effects.disk = disk
        grader.reportFolders = [reports]
        grader.spaceRecheckInterval = .milliseconds(20)
        let store = try BatchResultStore(directory: reports, chapter: grader.chapter.id)
        let events = Mutex<[String]>([])
        let outcome = try await ClassBatch(
            chapter: grader.chapter, grader: grader, engines: [GradingCoreTests.engine("tcp://lab-a:2375", runner)],
            store: store, reports: ClassReports()
        ).run(.once(classFolder: folder)) { event in
            switch event {
            case .batch(.waitingForSpace(let shortfall)):
                events.withLock { $0.append("waiting \(shortfall.folder == reports)") }
                #expect(runner.count("build") == 0, "nothing built while short")
                disk.set(free: 20 << 30)
            case .batch(.spaceReturned): events.withLock { $0.append("returned") }
            case .batch(.finished(let report, _)): events.withLock { $0.append("\(report.submission) \(report.score)") }
            default: break
            }
        }
        #expect(events.withLock { $0 }.prefix(2) == ["waiting true", "returned"])
        #expect(outcome.summary.grades.map(\.score) == [100, 50])
        #expect(outcome.summary.notGraded.isEmpty)
    }
}
