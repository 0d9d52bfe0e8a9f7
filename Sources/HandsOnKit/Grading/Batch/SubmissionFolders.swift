import Foundation
import HandsOnEngine

/// One student's answer: a sub-folder of the class folder, named by that folder.
public struct Submission: Sendable, Equatable {
    public let name: String
    public let path: String
    /// The content hash of what `path` holds, when it was taken (a contest grades a copy made at that moment).
    public var contentHash: String?
    /// Answers with the same key likely share their first build stage's cache (`BuildAffinity`): a batch on several
    /// engines hands them to the engine that built one of them.
    public var buildAffinity: String?
    /// The host ran short of its reserve while this answer built beside others: it is graded again with the engine's
    /// file system to itself, so that the space lost is known to be its own.
    public var gradeAloneOnItsDisk = false

    public init(name: String, path: String, contentHash: String? = nil, buildAffinity: String? = nil) {
        self.name = name
        self.path = path
        self.contentHash = contentHash
        self.buildAffinity = buildAffinity
    }
}

/// Finds the submissions in a class folder: every sub-folder not hidden, in name order.
public enum SubmissionFolders {
    public struct Listing: Sendable {
        public let submissions: [Submission]
        /// Entries that are not submissions (plain files, links), named for the user.
        public let skipped: [String]
    }

    /// - Parameter excluding: a folder never taken as a submission (the report folder, when it sits inside).
    public static func list(in directory: String, excluding: String? = nil) throws -> Listing {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BatchError.notASubmissionsFolder(directory)
        }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw BatchError.unreadable(folder: directory, reason: error.localizedDescription)
        }
        let excluded = excluding.map { URL(fileURLWithPath: $0).standardized.resolvingSymlinksInPath().path }
        var submissions: [Submission] = []
        var skipped: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = "\(directory)/\(name)"
            if URL(fileURLWithPath: path).standardized.resolvingSymlinksInPath().path == excluded { continue }
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            if attributes?[.type] as? FileAttributeType == .typeDirectory {
                submissions.append(Submission(name: name, path: path))
            } else {
                skipped.append(name)
            }
        }
        return Listing(submissions: submissions, skipped: skipped)
    }
}
