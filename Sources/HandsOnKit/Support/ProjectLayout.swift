import Foundation

/// Where the course's own files are: `Chapters/` and `apps/` beside `Package.swift`.
public struct ProjectLayout: Sendable {
    public let root: String

    public var chaptersDirectory: String { "\(root)/Chapters" }
    public var appsDirectory: String { "\(root)/apps" }

    public init(root: String) { self.root = root }

    /// `HANDSON_HOME`, else the nearest folder upwards from the current directory or from the executable
    /// (`.build/debug/handson`) that holds both `Chapters/` and `apps/`.
    public static func locate(environment: [String: String], currentDirectory: String) -> ProjectLayout? {
        if let home = environment["HANDSON_HOME"], !home.isEmpty { return ProjectLayout(root: home) }
        var starts = [currentDirectory]
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            starts.append((executable as NSString).deletingLastPathComponent)
        }
        for start in starts {
            var directory = URL(fileURLWithPath: start).standardized
            while directory.path != "/" {
                let fileManager = FileManager.default
                if fileManager.fileExists(atPath: directory.appendingPathComponent("Chapters").path),
                   fileManager.fileExists(atPath: directory.appendingPathComponent("apps").path) {
                    return ProjectLayout(root: directory.path)
                }
                directory.deleteLastPathComponent()
            }
        }
        return nil
    }

    public static func require(in context: CommandContext) throws -> ProjectLayout {
        guard let layout = locate(environment: context.environment, currentDirectory: context.currentDirectory) else {
            throw CommandFailure("cannot find the course files (Chapters/ and apps/): run from the HandsOn folder or set HANDSON_HOME")
        }
        return layout
    }
}
