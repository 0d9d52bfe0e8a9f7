import Foundation
import HandsOnFormats
import HandsOnMessages

/// The report folders of a class's shards made into one, as one batch of the whole class would have written it
/// (timings aside): every answer's history and latest grade, and every report. An answer graded by two shards, and
/// one the class folder held that no shard graded, are named; the merge is made all the same.
public enum ShardMerge {
    public struct Outcome: Sendable {
        public let summary: ClassSummary
        /// Answers graded in more than one shard's folder, with those folders.
        public let gradedTwice: [String: [String]]
        /// Answers a shard saw in the class folder that no shard graded.
        public let notGradedByAnyShard: [String]
        /// The shards the folders said they were (nil for a folder from a batch of the whole class).
        public let shards: [Shard?]

        /// Whether every answer was graded, once.
        public var isWhole: Bool { gradedTwice.isEmpty && notGradedByAnyShard.isEmpty }
    }

    /// What `out` holds after a merge, so the next merge into it may replace it.
    static let recordName = "merged-from.json"

    /// Merges `folders` into `out` (made, or a former merge's folder replaced) with `chapter`'s reports.
    public static func merge(
        _ folders: [String], into out: String, chapter: Chapter, reports: any ClassReportWriting,
        now: @Sendable () -> Date = { Date() }
    ) throws -> Outcome {
        var histories: [String: [(folder: String, grades: [GradeReport])]] = [:]
        var classAnswers = Set<String>()
        var shards: [Shard?] = []
        for folder in folders {
            // Opened as a store only when it is one (the store would make a new batch of any folder), which then refuses
            // a folder of another chapter.
            guard try BatchResultStore.savedManifest(in: folder) != nil else {
                throw ShardMergeError(message: Message(.shardMerge.notAReportFolder, ["folder": folder]))
            }
            let record = try ShardRecord.read(in: folder)
            shards.append(record?.shard)
            classAnswers.formUnion(record?.classAnswers ?? [])
            let store = try BatchResultStore(directory: folder, chapter: chapter.id)
            for (name, grades) in store.histories() where !grades.isEmpty {
                histories[name, default: []].append((folder, grades))
            }
        }
        try prepare(out, from: folders)
        let merged = try BatchResultStore(directory: out, chapter: chapter.id, now: now)
        for (_, sources) in histories.sorted(by: { $0.key < $1.key }) {
            let grades = sources.flatMap(\.grades).enumerated().sorted { first, second in
                let (a, b) = (first.element.gradedAt ?? .distantPast, second.element.gradedAt ?? .distantPast)
                return a != b ? a < b : first.offset < second.offset
            }.map(\.element)
            for grade in grades { try merged.save(grade) }
        }
        let names = classAnswers.union(histories.keys).sorted()
        let records = ClassRecords(store: merged, names: names)
        let summary = try ClassBatch.write(
            records.snapshot(), names: names, chapter: chapter, generated: now(), reports: reports, to: out)
        return Outcome(
            summary: summary,
            gradedTwice: histories.filter { $0.value.count > 1 }.mapValues { $0.map(\.folder) },
            notGradedByAnyShard: classAnswers.subtracting(histories.keys).sorted(), shards: shards)
    }

    /// Makes `out` ready: a folder that does not exist or is empty, or a former merge's (its results, histories and
    /// record go). Any other folder is refused, so no batch's grades are mixed in or lost.
    private static func prepare(_ out: String, from folders: [String]) throws {
        let manager = FileManager.default
        let standardized = URL(fileURLWithPath: out).standardized.path
        guard !folders.contains(where: { URL(fileURLWithPath: $0).standardized.path == standardized }) else {
            throw ShardMergeError(message: Message(.shardMerge.outIsAShard, ["folder": out]))
        }
        let entries = (try? manager.contentsOfDirectory(atPath: out)) ?? []
        if entries.contains(recordName) {
            for folder in ["results", "history"] { try? manager.removeItem(atPath: "\(out)/\(folder)") }
        } else if !entries.isEmpty {
            throw ShardMergeError(message: Message(.shardMerge.outNotEmpty, ["folder": out]))
        }
        try manager.createDirectory(atPath: out, withIntermediateDirectories: true)
        try JSONOutput.data(folders).write(to: URL(fileURLWithPath: "\(out)/\(recordName)"), options: .atomic)
    }
}

public struct ShardMergeError: MessageError, Equatable {
    public let message: Message
}
