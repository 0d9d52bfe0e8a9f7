import Foundation
import HandsOnEngine
import HandsOnMessages
import HandsOnProcesses
import Synchronization

/// Hands out submissions to the workers of all engines. An answer handed out is "in flight" until it is done or given
/// back (its engine was lost); a worker asking while the queue is empty but answers are in flight waits, since one
/// may come back. An open queue (a contest that follows its class folder) also waits for answers still to be added,
/// until it is closed.
///
/// Which answer a worker gets: the first, in the queue's order, whose `buildAffinity` no worker has built yet; else
/// the first of one it has built; else another worker's, when that worker has more work of its own ahead than this
/// one would take to build it afresh (and from then on that affinity is this worker's too). Answers that share their
/// build cache then go to a worker that has it, whose builds reuse each other's steps, the costly new builds early
/// and the cheap ones late. A worker left with a few answers of another's waits instead, when their own worker will
/// be done with them sooner than a compile here (a cached build takes a fraction of a compile: bench/README.md).
/// Should that worker stop (its engine lost), its answers are anybody's.
///
/// The work ahead is reckoned from the grades each worker has finished (`Paces`): its first grades of an affinity and
/// its others, timed from hand-out to done, so engines of unlike speeds are weighed as they are; an answer of an
/// affinity already graded from the cache is reckoned at that grade's length. Before a worker has
/// finished both kinds, by count: a first build weighs `firstBuildWeight` answers, and another worker's answer is
/// taken when that one has `stealingThreshold` or more ahead.
actor SubmissionQueue {
    private var pending: [Submission]
    /// The builders (workers' build slots) each build affinity went to; a builder that stopped is taken out.
    private var builtBy: [String: Set<String>] = [:]
    private var inFlight = 0
    private var inFlightNames: [String: Int] = [:]
    private var isOpen: Bool
    /// Workers waiting for an answer, with the builder each is.
    private var waiting: [(builder: String?, continuation: CheckedContinuation<Submission?, Never>)] = []

    /// Without timings: the work another worker must have ahead, in answers from its cache, before one of its answers
    /// is taken (a compile takes about three such answers' time).
    static let stealingThreshold = 4
    /// Without timings: a first build under way counts as this many answers from the cache.
    static let firstBuildWeight = 2

    /// An answer in flight: who builds it, whether it is that builder's first of its affinity, since when.
    private struct Handout {
        let builder: String
        let first: Bool
        let since: ContinuousClock.Instant
        let affinity: String?
    }
    /// How long each worker's last grade of a build affinity from the cache took: an answer that takes long whatever
    /// is cached (its container fills its memory, say) is reckoned at its own length, not the worker's usual pace.
    private var cachedSeconds: [CachedGrade: Double] = [:]
    private struct CachedGrade: Hashable {
        let builder: String
        let affinity: String
    }
    private var handouts: [String: [Handout]] = [:]

    /// How long a worker's grades took, from hand-out to done: its first of an affinity, and the others.
    private struct Paces {
        var first: [Double] = []
        var cached: [Double] = []

        static func median(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.sorted()[values.count / 2] }

        /// Seconds for a first build and for one from the cache, once one of each is timed.
        var estimates: (first: Double, cached: Double)? {
            guard let first = Self.median(first), let cached = Self.median(cached) else { return nil }
            return (first, cached)
        }
    }
    private var paces: [String: Paces] = [:]

    /// The clock hand-outs and paces are timed by (a test's own, to time grades without waiting for them).
    private let currentInstant: @Sendable () -> ContinuousClock.Instant

    init(
        _ submissions: [Submission], open: Bool = false,
        clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        pending = submissions
        isOpen = open
        currentInstant = clock
    }

    /// Whether `builder` waits for an answer (a test's question: it goes on once a worker has taken one or waits).
    func isWaiting(_ builder: String) -> Bool { waiting.contains { $0.builder == builder } }

    /// Every answer is handed out and none can be added (one given back may still come).
    var handedOutAll: Bool { pending.isEmpty && !isOpen }

    /// Whether an answer of this name waits or is being graded.
    func holds(_ name: String) -> Bool { inFlightNames[name] != nil || pending.contains { $0.name == name } }

    /// One more answer to grade (an open queue's): a waiting worker takes it at once if it would.
    func add(_ submission: Submission) {
        pending.append(submission)
        serveWaiters()
    }

    /// No more answers will be added: the workers stop once the rest are graded.
    func close() {
        isOpen = false
        if inFlight == 0 && pending.isEmpty { releaseWaiters() }
    }

    /// A worker stops taking answers: the affinities it built are no longer its, and a worker that waited for it to
    /// grade them takes them.
    func leave(_ builder: String) {
        for key in builtBy.keys { builtBy[key]?.remove(builder) }
        serveWaiters()
    }

    /// Where in `pending` the answer for `builder` is (see the type's comment); nil when there is none for it.
    private func choice(for builder: String?) -> Int? {
        guard !pending.isEmpty else { return nil }
        guard let builder else { return 0 }
        var firstOfTheBuilder: Int?
        for (index, submission) in pending.enumerated() {
            guard let key = submission.buildAffinity, let builders = builtBy[key], !builders.isEmpty else {
                return index
            }
            if builders.contains(builder), firstOfTheBuilder == nil { firstOfTheBuilder = index }
        }
        if let firstOfTheBuilder { return firstOfTheBuilder }
        // Every answer left is another's: take one from a worker with more ahead than a first build here would take.
        return pending.firstIndex { submission in
            (builtBy[submission.buildAffinity ?? ""] ?? []).contains { worthTaking(from: $0, by: builder) }
        }
    }

    /// Whether `taker` building one of `owner`'s answers afresh ends sooner than `owner` would get through its own.
    private func worthTaking(from owner: String, by taker: String) -> Bool {
        let own = pending.filter { (builtBy[$0.buildAffinity ?? ""] ?? []).contains(owner) }
        let inFlight = handouts.values.joined().filter { $0.builder == owner }
        if let theirs = paces[owner]?.estimates, let mine = paces[taker]?.estimates {
            let now = currentInstant()
            func fromTheCache(_ affinity: String?) -> Double {
                affinity.flatMap { cachedSeconds[CachedGrade(builder: owner, affinity: $0)] } ?? theirs.cached
            }
            let current = inFlight.reduce(0.0) { total, handout in
                let expected = handout.first ? theirs.first : fromTheCache(handout.affinity)
                return total + max(0, expected - (now - handout.since).seconds)
            }
            return current + own.reduce(0.0) { $0 + fromTheCache($1.buildAffinity) } > mine.first
        }
        let current = inFlight.reduce(0) { $0 + ($1.first ? Self.firstBuildWeight : 0) }
        return current + own.count >= Self.stealingThreshold
    }

    private func claim(_ submission: Submission, for builder: String?) {
        guard let builder else { return }
        let first = submission.buildAffinity.map { builtBy[$0, default: []].insert(builder).inserted } ?? true
        handouts[submission.name, default: []].append(
            Handout(builder: builder, first: first, since: currentInstant(), affinity: submission.buildAffinity))
    }

    private func take(at index: Int, for builder: String?) -> Submission {
        let submission = pending.remove(at: index)
        claim(submission, for: builder)
        inFlight += 1
        inFlightNames[submission.name, default: 0] += 1
        return submission
    }

    /// The next answer to grade, or nil when all are done (or the task is cancelled). `beforeWaiting` runs once when
    /// the queue is closed and the caller would wait (every answer handed out, or only others' left), before it does.
    /// - Parameter builder: who will build it (a worker's build slot), to choose among the answers (nil: the first).
    func next(for builder: String? = nil, beforeWaiting: (@Sendable () async -> Void)? = nil) async -> Submission? {
        var readyToWait = beforeWaiting == nil
        while true {
            if Task.isCancelled { return nil }
            if let index = choice(for: builder) { return take(at: index, for: builder) }
            if inFlight == 0 && pending.isEmpty && !isOpen { return nil }
            if !readyToWait {
                readyToWait = true
                // Only while the queue is closed: then nothing but a given-back answer can come to this worker.
                if !isOpen, let beforeWaiting { await beforeWaiting() }
                // The queue may have changed meanwhile: look again.
                continue
            }
            return await withTaskCancellationHandler {
                await withCheckedContinuation { waiting.append((builder, $0)) }
            } onCancel: {
                Task { await self.releaseWaiters() }
            }
        }
    }

    /// The answer is graded (or given up on).
    func done(_ submission: Submission) {
        release(submission, timed: true)
        if inFlight == 0 && pending.isEmpty && !isOpen { releaseWaiters() }
    }

    /// The answer goes back for another worker.
    func giveBack(_ submission: Submission) {
        release(submission)
        add(submission)
    }

    /// - Parameter timed: the grade ended (not given back): its time counts in its worker's pace.
    private func release(_ submission: Submission, timed: Bool = false) {
        if var given = handouts[submission.name], !given.isEmpty {
            let handout = given.removeFirst()
            handouts[submission.name] = given.isEmpty ? nil : given
            if timed {
                let seconds = (currentInstant() - handout.since).seconds
                if handout.first {
                    paces[handout.builder, default: Paces()].first.append(seconds)
                } else {
                    paces[handout.builder, default: Paces()].cached.append(seconds)
                    if let affinity = handout.affinity {
                        cachedSeconds[CachedGrade(builder: handout.builder, affinity: affinity)] = seconds
                    }
                }
            }
        }
        inFlight -= 1
        if let count = inFlightNames[submission.name], count > 1 {
            inFlightNames[submission.name] = count - 1
        } else {
            inFlightNames[submission.name] = nil
        }
    }

    /// Hands the waiting workers, in the order they came, the answers they would take now.
    private func serveWaiters() {
        var index = 0
        while index < waiting.count {
            guard let choice = choice(for: waiting[index].builder) else {
                index += 1
                continue
            }
            let waiter = waiting.remove(at: index)
            waiter.continuation.resume(returning: take(at: choice, for: waiter.builder))
        }
    }

    private func releaseWaiters() {
        let all = waiting
        waiting.removeAll()
        for waiter in all { waiter.continuation.resume(returning: nil) }
    }
}
