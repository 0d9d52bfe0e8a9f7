import Foundation
import HandsOnEngine

/// Copies a chapter's starter into a working folder, never over existing files.
public enum StarterFiles {
    public static func directory(of chapter: Chapter) -> String { "\(chapter.directory)/\(chapter.starter.directory)" }

    /// Copies every entry of the starter into `destination` (created if needed), then the starter's own `files` over
    /// them; refuses to overwrite anything that was there before.
    public static func copy(_ chapter: Chapter, to destination: String) throws {
        let source = directory(of: chapter)
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: destination, withIntermediateDirectories: true)
        let entries = try fileManager.contentsOfDirectory(atPath: source).sorted()
        let added = chapter.starter.files.keys.compactMap { $0.split(separator: "/").first.map(String.init) }
        let clashes = Set(entries + added).filter { fileManager.fileExists(atPath: "\(destination)/\($0)") }.sorted()
        guard clashes.isEmpty else {
            throw LessonError.starterWouldOverwrite(folder: destination, files: clashes)
        }
        for entry in entries {
            try fileManager.copyItem(atPath: "\(source)/\(entry)", toPath: "\(destination)/\(entry)")
        }
        try overlay(chapter.starter.files, from: chapter, onto: destination)
    }

    /// A new folder holding the starter with `files` (destination -> source in the chapter's folder) written over it.
    public static func answer(_ chapter: Chapter, overlaying files: [String: String], in parent: String) throws
        -> String
    {
        let directory = "\(parent)/\(chapter.id)-\(UUID().uuidString.prefix(8))"
        try copy(chapter, to: directory)
        try overlay(files, from: chapter, onto: directory)
        return directory
    }

    /// Writes `files` (destination -> source in the chapter's folder) over what `directory` holds.
    public static func overlay(_ files: [String: String], from chapter: Chapter, onto directory: String) throws {
        for (destination, source) in files.sorted(by: { $0.key < $1.key }) {
            let target = "\(directory)/\(destination)"
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.createDirectory(
                atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(chapter.directory)/\(source)", toPath: target)
        }
    }

    /// Whether a folder has anything but HandsOn's own state in it.
    public static func isEmpty(_ directory: String) -> Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.allSatisfy { $0 == ".handson" }
    }
}
