import Foundation
import HandsOnEngine
import HandsOnMessages

/// Watches what an answer's container writes while it runs to its end, against the grade's disk limit: the
/// container is found by name once the engine has started it, and its cgroup read from its first process.
struct RunDiskWatch {
    let context: CheckContext
    /// How often the engine is asked for the container's process until it runs.
    var lookInterval: Duration = .milliseconds(200)

    /// The failed check of a container its disk limit stopped; nil when it was not stopped.
    static func stoppedCheck(_ id: CheckID, image: String, _ stop: DiskStop?, limit: Int64?) -> CheckResult? {
        guard case .limit(let bytes) = stop, let limit else { return nil }
        return CheckResult(
            id: id, passed: false,
            reason: Message(
                .serveCheck.stoppedByDiskLimit,
                ["image": image, "limit": BuildLimits.binary(limit), "written": BuildLimits.binary(bytes)]))
    }

    /// Runs `operation` (which starts the container `name`) under the watch; with no disk limit, as it is.
    func around<T: Sendable>(container name: String, _ operation: @escaping @Sendable () async throws -> T)
        async throws -> (result: T?, stoppedBy: DiskStop?)
    {
        guard let limit = context.runDiskLimitBytes, context.engine.isLocal else {
            return (try await operation(), nil)
        }
        let meter = CgroupWriteMeter(directories: [], processRoot: context.processRoot)
        let finder = Task { [engine = context.engine, cgroupRoot = context.cgroupRoot, lookInterval] in
            while !Task.isCancelled {
                if let pid = try? await engine.containerProcessID(name),
                    meter.attach(processID: pid, cgroupRoot: cgroupRoot)
                {
                    return
                }
                try? await Task.sleep(for: lookInterval)
            }
        }
        defer { finder.cancel() }
        return try await Self.watching(meter, limit: limit, operation)
    }

    /// Runs `operation` while `meter`'s container is watched against `limit`: past it, the container's processes are
    /// killed. Only the limit: a container's run is no build, and the reserve is a build's watch's.
    static func watching<T: Sendable>(
        _ meter: CgroupWriteMeter, limit: Int64, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> (result: T?, stoppedBy: DiskStop?) {
        let watch = DiskWatch(
            limitBytes: limit, meter: meter, engineFolders: [], reserve: DiskReserve(bytes: 0),
            disk: UnlimitedDiskSpace(), claims: DiskClaims())
        return try await watch.watching(operation) { _ in meter.killEverything() }
    }
}
