import Foundation
import HandsOnProcesses

/// Archives written by GNU tar and gzip at test time (real writers, every header format), read back in chunks of
/// every size.
public enum ArchiveMaker {
    /// tar or gzip failed; its own words.
    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    static let runner = SystemProcessRunner()

    /// A folder with a file, a hard link to it, a symbolic link, an empty file, a directory, and a path longer than
    /// ustar's 100-byte name field.
    public static func sampleTree() throws -> (folder: String, longPath: String) {
        let folder = NSTemporaryDirectory() + "handson-tar-\(UUID().uuidString.prefix(8))"
        let longDirectory = String(repeating: "d", count: 70) + "/" + String(repeating: "e", count: 70)
        try FileManager.default.createDirectory(
            atPath: "\(folder)/tree/\(longDirectory)", withIntermediateDirectories: true)
        try Data(repeating: 0x61, count: 1000).write(to: URL(fileURLWithPath: "\(folder)/tree/a.txt"))
        try FileManager.default.linkItem(atPath: "\(folder)/tree/a.txt", toPath: "\(folder)/tree/hard")
        try FileManager.default.createSymbolicLink(atPath: "\(folder)/tree/link", withDestinationPath: "a.txt")
        try Data().write(to: URL(fileURLWithPath: "\(folder)/tree/empty"))
        let longPath = "\(longDirectory)/\(String(repeating: "f", count: 40)).bin"
        try Data(repeating: 0x62, count: 10).write(to: URL(fileURLWithPath: "\(folder)/tree/\(longPath)"))
        return (folder, longPath)
    }

    /// `tar --format=FORMAT -C tree -cf - .` as bytes.
    public static func tar(_ folder: String, format: String) async throws -> [UInt8] {
        let result = try await runner.run(
            ProcessRequest(
                "tar", ["--format=\(format)", "--sort=name", "-C", "\(folder)/tree", "-cf", "-", "."],
                outputLimit: 64 << 20))
        guard result.succeeded else { throw Failed(description: result.failureSummary) }
        return Array(result.standardOutput.data)
    }

    public static func gzip(_ bytes: [UInt8]) async throws -> [UInt8] {
        let result = try await runner.run(
            ProcessRequest("gzip", ["-c", "-n"], standardInput: .bytes(Data(bytes)), outputLimit: 64 << 20))
        guard result.succeeded else { throw Failed(description: result.failureSummary) }
        return Array(result.standardOutput.data)
    }
}

/// Hands `bytes` to `feed` in pieces of `chunk` bytes, as a pipe would.
public func feedInChunks(_ bytes: [UInt8], chunk: Int, _ feed: (UnsafeRawBufferPointer) throws -> Void) rethrows {
    try bytes.withUnsafeBytes { all in
        var start = 0
        while start < all.count {
            let end = min(start + chunk, all.count)
            try feed(UnsafeRawBufferPointer(rebasing: all[start..<end]))
            start = end
        }
    }
}
