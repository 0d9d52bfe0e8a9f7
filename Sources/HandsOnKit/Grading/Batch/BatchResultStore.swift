import Foundation
import HandsOnEngine
import HandsOnFormats
import Synchronization

/// A report folder's saved grades: one JSON file per graded answer under `results/`, written whole (a temporary file
/// renamed into place) the moment the answer is graded, so a crash or `kill -9` loses only the answers in flight.
/// Every grade is also appended to its submission's history (`history/<name>.jsonl`, one grade a line, written
/// before the result file), which a contest's scoreboard counts from.
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
    /// Whether this store made the folder's manifest (a new batch id): no run before it can have left anything.
    public let isNew: Bool
    private var resultsDirectory: String { "\(directory)/results" }
    private var historyDirectory: String { "\(directory)/history" }
    /// Held for the store's life, so a second batch cannot write to the same folder.
    private let folderLock: Mutex<FileLock>
    private let writeLock = Mutex(())
    /// The content hash of each submission's latest grade, read from its history once and kept up to date by `save`.
    private let lastHashes = Mutex<[String: String?]>([:])

    /// Opens (or makes) the report folder for `chapter`; fails when another batch is writing to it, or when it holds
    /// another chapter's results. A new folder's batch is dated by `now` (the grading effects' clock).
    public init(directory: String, chapter: String, now: @Sendable () -> Date = { Date() }) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: "\(directory)/results", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: "\(directory)/history", withIntermediateDirectories: true)
        } catch {
            throw BatchError.reportFolderUnwritable(folder: directory, reason: error.localizedDescription)
        }
        guard let lock = try FileLock(path: "\(directory)/.handson-batch.lock") else {
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
            isNew = false
        } else {
            manifest = Manifest(chapter: chapter, batchID: UUID().uuidString.prefix(12).lowercased(), created: now())
            isNew = true
            try JSONOutput.data(manifest).write(to: URL(fileURLWithPath: manifestPath), options: .atomic)
        }
    }

    /// The manifest of the report folder `directory`, or nil when it holds none (it is no batch's).
    public static func savedManifest(in directory: String) throws -> Manifest? {
        let path = "\(directory)/batch.json"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let manifest = try? decoder.decode(Manifest.self, from: data) else { throw BatchError.notAManifest(path) }
        return manifest
    }

    /// The saved grade of each submission that has one, and what could not be read (regraded, never trusted).
    public func load(_ submissions: [Submission]) -> (grades: [String: GradeReport], unreadable: [String]) {
        var grades: [String: GradeReport] = [:]
        var unreadable: [String] = []
        for submission in submissions {
            let path = file(for: submission.name)
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            if let report = try? Self.decoder.decode(GradeReport.self, from: data),
                report.submission == submission.name,
                report.chapter == manifest.chapter
            {
                grades[submission.name] = report
            } else {
                unreadable.append(path)
            }
        }
        return (grades, unreadable)
    }

    /// Appends the grade to its history and replaces its result file: one encoding, one line in both (the result
    /// file is read by programs; `results.json` is the one written for people to read too).
    public func save(_ report: GradeReport) throws {
        var line = try JSONOutput.line(report)
        line.append(0x0A)
        try writeLock.withLock { _ in
            let history = historyFile(for: report.submission)
            let end = try append(line, to: history)
            do {
                try line.write(to: URL(fileURLWithPath: file(for: report.submission)), options: .atomic)
            } catch {
                // Saved in both or in neither: a grade given again later is not recorded twice.
                _ = truncate(history, end)
                throw BatchError.reportUnwritable(path: file(for: report.submission), reason: "\(error)")
            }
            lastHashes.withLock { $0[report.submission] = .some(report.contentHash) }
        }
    }

    /// The content hash of the submission's latest grade; nil when it has none (or was graded without one).
    public func lastContentHash(of name: String) -> String? {
        if let known = lastHashes.withLock({ $0[name] }) { return known }
        let hash = history(of: name).grades.last?.contentHash
        lastHashes.withLock { $0[name] = .some(hash) }
        return hash
    }

    /// A submission's grades, oldest first, and the lines that could not be read (a line cut short by a kill).
    public func history(of name: String) -> (grades: [GradeReport], unreadableLines: [Int]) {
        guard let data = FileManager.default.contents(atPath: historyFile(for: name)) else { return ([], []) }
        return grades(inHistory: data, of: name)
    }

    /// The grades of `name` (nil: of whoever the first readable line names) in a history file's lines.
    private func grades(inHistory data: Data, of name: String?) -> (grades: [GradeReport], unreadableLines: [Int]) {
        var name = name
        var grades: [GradeReport] = []
        var unreadable: [Int] = []
        for (index, line) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty {
            if let report = try? Self.decoder.decode(GradeReport.self, from: Data(line)),
                report.submission == (name ?? report.submission), report.chapter == manifest.chapter
            {
                name = report.submission
                grades.append(report)
            } else {
                unreadable.append(index + 1)
            }
        }
        return (grades, unreadable)
    }

    /// Every submission's history, by name (the names are read back from the grades, not the file names); each file
    /// read once.
    public func histories() -> [String: [GradeReport]] {
        var all: [String: [GradeReport]] = [:]
        for file in (try? FileManager.default.contentsOfDirectory(atPath: historyDirectory)) ?? []
        where file.hasSuffix(".jsonl") {
            guard let data = FileManager.default.contents(atPath: "\(historyDirectory)/\(file)") else { continue }
            var grades = grades(inHistory: data, of: nil).grades
            guard let name = grades.first?.submission else { continue }
            // A file not named after its grades' answer is not that answer's history: its own file is.
            if historyFile(for: name) != "\(historyDirectory)/\(file)" { grades = history(of: name).grades }
            if !grades.isEmpty { all[name] = grades }
        }
        return all
    }

    /// Appends whole lines; a line a kill cuts short is the last one, and `history(of:)` skips it.
    /// Returns the file's length before the line.
    @discardableResult
    private func append(_ line: Data, to path: String) throws -> off_t {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw BatchError.reportUnwritable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        let end = lseek(descriptor, 0, SEEK_END)
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count else {
            let reason = written < 0 ? String(cString: strerror(errno)) : "wrote \(written) of \(line.count) bytes"
            // A part of a line (a full disk) is taken back: the history ends with its last whole grade.
            if end >= 0 { _ = ftruncate(descriptor, end) }
            throw BatchError.reportUnwritable(path: path, reason: reason)
        }
        return end
    }

    /// Forgets every saved grade (`--regrade`); the histories stay, since a contest's history is never rewritten.
    public func removeAll() throws {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: resultsDirectory)) ?? []
        where name.hasSuffix(".json") {
            try FileManager.default.removeItem(atPath: "\(resultsDirectory)/\(name)")
        }
    }

    /// A submission's result file; the folder name is a valid file name already, but a leading dot or dash is kept
    /// from making a hidden or option-like file.
    func file(for name: String) -> String { "\(resultsDirectory)/\(Self.fileName(name)).json" }

    func historyFile(for name: String) -> String { "\(historyDirectory)/\(Self.fileName(name)).jsonl" }

    /// A submission's name as a file name: the folder name is one already, but a leading dot or dash is kept from
    /// making a hidden or option-like file.
    public static func fileName(_ name: String) -> String {
        name.hasPrefix(".") || name.hasPrefix("-") ? "_" + name : name
    }

    /// Reads results and history lines: `JSONOutput`'s times, with or without milliseconds.
    static var decoder: JSONDecoder { JSONOutput.decoder }
}
