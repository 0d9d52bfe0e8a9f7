import Foundation

/// What a batch tells its watcher as it goes.
public enum BatchEvent: Sendable {
    case started(Submission)
    /// A grade finished and was saved (`saveError` says why it could not be).
    case finished(GradeReport, saveError: String?)
    /// A grade was cut short by Ctrl-C; nothing of it was saved.
    case cancelled(Submission)
}

/// Grades many answers N at a time on one engine. Every grade is a `Grader` grade (same checks, limits and JSON);
/// the batch adds its own label to everything it makes, saves each result the moment it is known, and removes the
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

    /// The label on every image and container of the batch with this id.
    public static func label(_ batchID: String) -> (key: String, value: String) { ("org.handson.batch", batchID) }

    /// Grades `pending` and saves each result in `store`; returns the grades it finished (in completion order)
    /// and whether Ctrl-C stopped it.
    public func run(_ pending: [Submission], store: BatchResultStore,
                    onEvent: @escaping @Sendable (BatchEvent) -> Void = { _ in }) -> (finished: [GradeReport], interrupted: Bool) {
        let label = Self.label(store.manifest.batchID)
        var grader = self.grader
        grader.extraLabels[label.key] = label.value
        grader.engineInfo = grader.engineInfo ?? (try? grader.engine.info())
        let ledger = StepImageLedger()
        grader.stepImages = ledger
        // What a killed run left (its in-flight images and containers) goes first.
        if !grader.keepImage { grader.engine.removeEverything(labelled: "\(label.key)=\(label.value)") }

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
            grader.engine.removeEverything(labelled: "\(label.key)=\(label.value)")
        }
        return (finished.withLock { $0 }, cancellation.isRaised)
    }
}

/// Hands out submissions one at a time to the batch's workers.
private final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var items: ArraySlice<Submission>

    init(_ items: [Submission]) { self.items = items[...] }

    func next() -> Submission? { lock.withLock { items.popFirst() } }
}
