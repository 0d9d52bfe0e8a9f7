import Foundation
import HandsOnEngine

/// Where the course's own files are: `Chapters/` and `apps/` beside `Package.swift`.
public struct ProjectLayout: Sendable {
    public let root: String

    public var chaptersDirectory: String { "\(root)/Chapters" }
    public var appsDirectory: String { "\(root)/apps" }

    public init(root: String) { self.root = root }

    /// `HANDSON_HOME`; else the nearest folder upwards from the current directory or from the executable
    /// (`.build/debug/handson`) that holds both `Chapters/` and `apps/`; else, for an installed binary
    /// (`PREFIX/bin/handson`), `PREFIX/share/handson`.
    public static func locate(
        environment: [String: String], currentDirectory: String,
        executable: String? = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    ) -> ProjectLayout? {
        if let home = environment["HANDSON_HOME"], !home.isEmpty { return ProjectLayout(root: home) }
        var starts = [currentDirectory]
        let binDirectory = executable.map { ($0 as NSString).deletingLastPathComponent }
        if let binDirectory { starts.append(binDirectory) }
        for start in starts {
            var directory = URL(fileURLWithPath: start).standardized
            while directory.path != "/" {
                if Self.holdsCourse(directory.path) { return ProjectLayout(root: directory.path) }
                directory.deleteLastPathComponent()
            }
        }
        if let binDirectory {
            let installed = URL(fileURLWithPath: binDirectory).deletingLastPathComponent().appendingPathComponent(
                "share/handson"
            ).standardized.path
            if Self.holdsCourse(installed) { return ProjectLayout(root: installed) }
        }
        return nil
    }

    /// Whether `directory` holds both `Chapters/` and `apps/`.
    static func holdsCourse(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: "\(directory)/Chapters")
            && FileManager.default.fileExists(atPath: "\(directory)/apps")
    }
}
