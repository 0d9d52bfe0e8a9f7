import Foundation
import Synchronization

/// What a batch tells its watcher as it goes.
public enum BatchEvent: Sendable {
    case started(Submission)
    /// A grade finished and was saved (`saveError` says why it could not be).
    case finished(GradeReport, saveError: String?)
    /// A grade was cut short by Ctrl-C; nothing of it was saved.
    case cancelled(Submission)
}

/// Grades many answers N at a time on one engine. Every grade is a `Grader` grade (same checks, limits and JSON);
/// the batch marks what it makes as its own (a label on containers, its id in image tags), saves each result the moment it is known, and removes the
/// builds' stage images once at the end (a parallel grade may be using them as its cache until then).
public struct BatchGrader: Sendable {
    public let grader: Grader
    public let jobs: Int
    public let cancellation: CancellationSignal

    public init(grader: Grader, jobs: Int, cancellation: CancellationSignal = .shared) {
        self.grader = grader
        self.jobs = max(1, jobs)
        self.cancellation = cancellation
    }

    /// The label on every container of a batch, valued with its id (its images carry the id at the start of their tag).
    public static let labelKey = "org.handson.batch"

    /// Grades `pending` and saves each result in `store`; returns the grades it finished (in completion order)
    /// and whether Ctrl-C stopped it.
    public func run(_ pending: [Submission], store: BatchResultStore,
                    onEvent: @escaping @Sendable (BatchEvent) -> Void = { _ in }) -> (finished: [GradeReport], interrupted: Bool) {
        let batchID = store.manifest.batchID
        let label = "\(Self.labelKey)=\(batchID)"
        var grader = self.grader
        grader.extraLabels[Self.labelKey] = batchID
        grader.tagPrefix = "\(batchID)-"
        let sweep = { [grader] in
            grader.engine.removeContainers(labelled: label)
            grader.engine.removeImages(repository: grader.imageRepository, tagPrefix: grader.tagPrefix)
        }
        grader.engineInfo = grader.engineInfo ?? grader.engine.cachedInfo()
        // Each build gets its share of the machine, so one answer's `RUN` cannot starve the others.
        grader.limits.cpus = grader.limits.cpus ?? max(1, Double(ProcessInfo.processInfo.activeProcessorCount) / Double(jobs))
        let ledger = StepImageLedger()
        grader.stepImages = ledger
        let builder = grader.engineInfo?.builder
        let cacheBefore = grader.keepImage ? nil : grader.engine.buildCacheIDs(builder: builder)
        grader.buildCacheSweptByCaller = true
        // What a killed run left goes first: its engine commands still running (a build goes on after its grader is
        // killed), then its images and containers.
        OrphanedCommands.stop(mentioning: [label, "\(grader.imageRepository):\(grader.tagPrefix)"])
        BuildCgroup.removeAll(named: grader.tagPrefix)
        if !grader.keepImage { sweep() }

        let queue = WorkQueue(pending)
        let finished = LockedBox<[GradeReport]>([])
        let group = DispatchGroup()
        for _ in 0..<min(jobs, max(pending.count, 1)) {
            group.enter()
            let thread = Thread { [grader, cancellation] in
                defer { group.leave() }
                while !cancellation.isRaised, let submission = queue.next() {
                    onEvent(.started(submission))
                    let report = grader.grade(submission.path, name: submission.name)
                    if cancellation.isRaised {
                        onEvent(.cancelled(submission))
                        break
                    }
                    var saveError: String?
                    do { try store.save(report) } catch { saveError = "\(error)" }
                    finished.withLock { $0.append(report) }
                    onEvent(.finished(report, saveError: saveError))
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        if !grader.keepImage {
            ledger.removeUntagged(on: grader.engine)
            sweep()
            if let cacheBefore { grader.engine.removeBuildCache(addedSince: cacheBefore, builder: builder) }
        }
        return (finished.withLock { $0 }, cancellation.isRaised)
    }
}

/// Hands out submissions one at a time to the batch's workers.
private final class WorkQueue: Sendable {
    private let items: Mutex<ArraySlice<Submission>>

    init(_ items: [Submission]) { self.items = Mutex(items[...]) }

    func next() -> Submission? { items.withLock { $0.popFirst() } }
}

/// Engine commands a killed batch left running: found by the batch's label or tag on their command line (Linux `/proc`).
enum OrphanedCommands {
    /// Sends SIGTERM to every process whose arguments contain one of `markers`, and waits up to 10 s for them to go.
    static func stop(mentioning markers: [String]) {
        let found = processes(mentioning: markers)
        guard !found.isEmpty else { return }
        for pid in found { kill(pid, SIGTERM) }
        for _ in 0..<100 where found.contains(where: { kill($0, 0) == 0 }) { Thread.sleep(forTimeInterval: 0.1) }
    }

    static func processes(mentioning markers: [String]) -> [pid_t] {
        let own = getpid()
        let wanted = markers.map { Array($0.utf8) }
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), pid != own,
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let arguments = data.split(separator: 0).map(Array.init)
            return arguments.contains { argument in wanted.contains { argument.contains($0) } } ? pid : nil
        }
    }
}
