import Foundation
import Synchronization

/// A report folder's saved grades: one JSON file per graded answer under `results/`, written whole (a temporary file
/// renamed into place) the moment the answer is graded, so a crash or `kill -9` loses only the answers in flight.
public final class BatchResultStore: Sendable {
    /// What a report folder is for, written once when it is made.
    public struct Manifest: Sendable, Codable, Equatable {
        public let chapter: String
        /// Marks the batch's images and containers (`org.handson.batch`), so a later run can remove what a killed one left.
        public let batchID: String
        public let created: Date
    }

    public let directory: String
    public let manifest: Manifest
    private var resultsDirectory: String { "\(directory)/results" }
    /// Held for the store's life, so a second batch cannot write to the same folder.
    private let folderLock: Mutex<FileLock>
    private let writeLock = Mutex(())

    /// Opens (or makes) the report folder for `chapter`; fails when another batch is writing to it, or when it holds
    /// another chapter's results.
    public init(directory: String, chapter: String) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: "\(directory)/results", withIntermediateDirectories: true)
        } catch {
            throw BatchError.reportFolderUnwritable(folder: directory, reason: error.localizedDescription)
        }
        guard let lock = try FileLock(path: "\(directory)/.handson-batch.lock", wait: false) else {
            throw BatchError.reportFolderBusy(directory)
        }
        folderLock = Mutex(lock)
        let manifestPath = "\(directory)/batch.json"
        if FileManager.default.fileExists(atPath: manifestPath) {
            let data = try Data(contentsOf: URL(fileURLWithPath: manifestPath))
            guard let existing = try? Self.decoder.decode(Manifest.self, from: data) else {
                throw BatchError.notAManifest(manifestPath)
            }
            guard existing.chapter == chapter else {
                throw BatchError.otherChapter(folder: directory, holds: existing.chapter, wanted: chapter)
            }
            manifest = existing
        } else {
            manifest = Manifest(chapter: chapter, batchID: UUID().uuidString.prefix(12).lowercased(), created: Date())
            try Self.encoder.encode(manifest).write(to: URL(fileURLWithPath: manifestPath), options: .atomic)
        }
    }

    /// The saved grade of each submission that has one, and what could not be read (regraded, never trusted).
    public func load(_ submissions: [Submission]) -> (grades: [String: GradeReport], unreadable: [String]) {
        var grades: [String: GradeReport] = [:]
        var unreadable: [String] = []
        for submission in submissions {
            let path = file(for: submission.name)
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            if let report = try? Self.decoder.decode(GradeReport.self, from: data), report.submission == submission.name,
               report.chapter == manifest.chapter {
                grades[submission.name] = report
            } else {
                unreadable.append(path)
            }
        }
        return (grades, unreadable)
    }

    public func save(_ report: GradeReport) throws {
        let data = try Self.encoder.encode(report)
        try writeLock.withLock { _ in
            try data.write(to: URL(fileURLWithPath: file(for: report.submission)), options: .atomic)
        }
    }

    /// Forgets every saved grade (`--regrade`).
    public func removeAll() throws {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: resultsDirectory)) ?? [] where name.hasSuffix(".json") {
            try FileManager.default.removeItem(atPath: "\(resultsDirectory)/\(name)")
        }
    }

    /// A submission's result file; the folder name is a valid file name already, but a leading dot or dash is kept
    /// from making a hidden or option-like file.
    func file(for name: String) -> String {
        "\(resultsDirectory)/\(name.hasPrefix(".") || name.hasPrefix("-") ? "_" + name : name).json"
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
