import Foundation
import HandsOnEngine
import HandsOnMessages
import HandsOnProcesses
import Synchronization

/// Follows a contest's class folder: every team folder whose contents change (by `FolderContentHash`, not by
/// modification time) is copied as it stands and graded again, at most one grade per team at a time, the newest
/// contents next. Every grade goes into the team's history (`ClassBatch` rewrites the reports after each one).
/// Runs until its task is cancelled. A restart (after Ctrl-C or `kill -9`) grades only what changed since the last
/// recorded grade: a folder graded already is recognised by its hash, so nothing is graded twice.
public struct ContestFollower: Sendable {
    public let batch: BatchGrader
    public let classFolder: String
    public let store: BatchResultStore
    /// Time between looks at the class folder.
    public var interval: Duration = .seconds(2)
    /// What the time between looks is measured on.
    public var clock = WaitingClock.real
    /// The share of the class followed (`--shard K/N`); nil: every team.
    public var shard: Shard?
    /// The answer folders' file digests, so a look reads only files that may have changed.
    let digests = FileDigestCache()

    public typealias Event = ClassBatch.Event

    public init(batch: BatchGrader, classFolder: String, store: BatchResultStore) {
        self.batch = batch
        self.classFolder = classFolder
        self.store = store
    }

    /// Where the copies being graded wait: inside the report folder, emptied at each start.
    var stagingFolder: String { "\(store.directory)/.staging" }

    public func run(onEvent: @escaping @Sendable (Event) -> Void = { _ in }) async -> BatchGrader.Outcome {
        try? FileManager.default.removeItem(atPath: stagingFolder)
        try? FileManager.default.createDirectory(atPath: stagingFolder, withIntermediateDirectories: true)
        let queue = SubmissionQueue([], open: true)
        let outcome = await withTaskGroup(of: BatchGrader.Outcome?.self) { group in
            group.addTask { [batch, store] in
                await batch.run(queue: queue, expected: nil, store: store) { onEvent(.batch($0)) }
            }
            group.addTask { [self] in
                var staged: [String: String] = [:]
                while !Task.isCancelled {
                    await scan(into: queue, staged: &staged, onEvent: onEvent)
                    try? await clock.sleep(interval)
                }
                await queue.close()
                return nil
            }
            // The graders end when cancelled, or when every engine was lost: then there is no one to grade what the
            // folder-watcher would queue, and it stops too.
            var outcome: BatchGrader.Outcome?
            for await result in group where result != nil {
                outcome = result
                group.cancelAll()
            }
            return outcome ?? BatchGrader.Outcome(finished: [], interrupted: true, lostEngines: [])
        }
        try? FileManager.default.removeItem(atPath: stagingFolder)
        return outcome
    }

    /// One look at the class folder: queues each team not being graded whose contents differ from its last grade, and
    /// removes the copies of grades that are over.
    func scan(into queue: SubmissionQueue, staged: inout [String: String], onEvent: (Event) -> Void) async {
        for (team, copy) in staged where !(await queue.holds(team)) {
            try? FileManager.default.removeItem(atPath: copy)
            staged[team] = nil
        }
        let listing: SubmissionFolders.Listing
        do { listing = try SubmissionFolders.list(in: classFolder, excluding: store.directory) } catch {
            onEvent(.scanProblem("\(error)"))
            return
        }
        if let shard { noteShare(of: shard, in: listing) }
        for team in listing.submissions where shard?.holds(team.name) ?? true {
            guard !(await queue.holds(team.name)) else { continue }
            let last = store.lastContentHash(of: team.name)
            let copy = "\(stagingFolder)/\(BatchResultStore.fileName(team.name))-\(UUID().uuidString.prefix(8))"
            let staging = await BlockingWork.run { [digests, dockerfile = batch.grader.grading.dockerfile] in
                Self.stage(team.path, as: copy, unlessItHashes: last, digests: digests, dockerfile: dockerfile)
            }
            switch staging {
            case .unchanged:
                continue
            case .uncopied(let reason):
                onEvent(.scanProblem(say(.contestFollower.cannotCopy, ["path": team.path, "reason": reason])))
            case .staged(let hash, let affinity):
                staged[team.name] = copy
                await queue.add(Submission(name: team.name, path: copy, contentHash: hash, buildAffinity: affinity))
                onEvent(.queued(team: team.name, contentHash: hash))
            }
        }
    }

    /// Keeps `shard.json` naming every answer the class folder has held while it was followed, and this shard's
    /// share of them, so `report merge` finds an answer no shard graded as it does for shards graded once.
    func noteShare(of shard: Shard, in listing: SubmissionFolders.Listing) {
        let known = (try? ShardRecord.read(in: store.directory)).flatMap { $0?.shard == shard ? $0 : nil }
        let answers = Set(known?.classAnswers ?? []).union(listing.submissions.map(\.name)).sorted()
        let record = ShardRecord(shard: shard, classAnswers: answers, assigned: answers.filter(shard.holds))
        if record != known { try? record.write(in: store.directory) }
    }

    enum Staging: Sendable {
        case unchanged
        case uncopied(reason: String)
        case staged(contentHash: String, buildAffinity: String?)
    }

    /// Copies a team's folder to `copy` when its contents differ from `last` (the hash of its last grade): the copy is
    /// what is graded and what its hash names, so a folder changing while copied is graded as copied. Blocking file
    /// work: the caller runs it on a thread of its own.
    static func stage(
        _ folder: String, as copy: String, unlessItHashes last: String?, digests: FileDigestCache, dockerfile: String
    ) -> Staging {
        guard FolderContentHash.of(folder, cache: digests) != last else { return .unchanged }
        do { try FileManager.default.copyItem(atPath: folder, toPath: copy) } catch {
            try? FileManager.default.removeItem(atPath: copy)
            return .uncopied(reason: error.localizedDescription)
        }
        // One reading of the copy's files for its hash and its build affinity.
        let copyDigests = FileDigestCache()
        let hash = FolderContentHash.of(copy, cache: copyDigests)
        guard hash != last else {
            try? FileManager.default.removeItem(atPath: copy)
            return .unchanged
        }
        return .staged(
            contentHash: hash,
            buildAffinity: BuildAffinity.key(ofAnswerIn: copy, dockerfile: dockerfile, cache: copyDigests))
    }
}
