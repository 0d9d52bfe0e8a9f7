import Foundation
import HandsOnEngine
import HandsOnFormats

#if canImport(Glibc)
    import Glibc
#endif

/// The patterns of a `.dockerignore`, matched as the engines match them: one pattern a line, `#` comments, paths
/// relative to the context with a leading `/` or `./` dropped, `*` and `?` within one path segment, `**` for any
/// number of segments, `!` to take a path back; the last pattern that matches a path decides. A pattern that matches
/// a folder leaves out everything beneath it.
public struct DockerIgnore: Sendable, Equatable {
    public struct Pattern: Sendable, Equatable {
        public let segments: [String]
        /// `!pattern`: a path it matches is sent after all.
        public let negated: Bool
    }

    public let patterns: [Pattern]

    public init(_ text: String) {
        patterns = TextLines.split(text).compactMap { rawLine in
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { return nil }
            let negated = line.hasPrefix("!")
            if negated { line = String(line.dropFirst()).trimmingCharacters(in: .whitespaces) }
            let segments = line.split(separator: "/").map(String.init).filter { $0 != "." && !$0.isEmpty }
            guard !segments.isEmpty else { return nil }
            return Pattern(segments: segments, negated: negated)
        }
    }

    /// The `.dockerignore` of a context folder; no patterns when it has none.
    public static func of(context folder: String) -> DockerIgnore {
        DockerIgnore((try? String(contentsOfFile: "\(folder)/.dockerignore", encoding: .utf8)) ?? "")
    }

    /// Whether the engine leaves `path` (relative to the context, `/`-separated) out of the context.
    public func excludes(_ path: String) -> Bool {
        let segments = path.split(separator: "/").map(String.init)
        var excluded = false
        for pattern in patterns {
            // A pattern matching the path or one of the folders above it.
            let matches = (1...max(segments.count, 1)).contains { count in
                Self.match(pattern.segments[...], Array(segments.prefix(count))[...])
            }
            if matches { excluded = !pattern.negated }
        }
        return excluded
    }

    /// Whether some `!` pattern could take back a path beneath `folder` (so an excluded folder is still walked).
    public func mayTakeBack(beneath folder: String) -> Bool {
        let folderSegments = folder.split(separator: "/").map(String.init)
        return patterns.contains { pattern in
            guard pattern.negated else { return false }
            for (index, segment) in folderSegments.enumerated() {
                guard index < pattern.segments.count else { return false }
                let part = pattern.segments[index]
                if part == "**" { return true }
                if fnmatch(part, segment, 0) != 0 { return false }
            }
            return pattern.segments.count > folderSegments.count
        }
    }

    private static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let head = pattern.first else { return path.isEmpty }
        if head == "**" {
            let rest = pattern.dropFirst()
            for start in path.startIndex...path.endIndex where match(rest, path[start...]) { return true }
            return false
        }
        guard let name = path.first, fnmatch(head, name, 0) == 0 else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }
}

/// What a build sends the engine: the files of the context folder its `.dockerignore` keeps (the Dockerfile and the
/// `.dockerignore` always go), measured here the same way whatever the engine.
public struct BuildContextMeasurement: Sendable, Equatable {
    /// A top-level file or folder of the context and the bytes of it that are sent.
    public struct Entry: Sendable, Equatable {
        public let path: String
        public let bytes: Int64
    }

    public let bytes: Int64
    public let files: Int
    /// Every top-level entry that is sent (a folder when any file beneath it is), the largest first.
    public let topLevel: [Entry]

    public static func measure(_ folder: String, dockerfile: String = "Dockerfile") -> BuildContextMeasurement {
        let ignore = DockerIgnore.of(context: folder)
        var bytes: Int64 = 0
        var files = 0
        var byTop: [String: Int64] = [:]
        let fileManager = FileManager.default
        func walk(_ relative: String) {
            let absolute = relative.isEmpty ? folder : "\(folder)/\(relative)"
            for name in ((try? fileManager.contentsOfDirectory(atPath: absolute)) ?? []).sorted() {
                let path = relative.isEmpty ? name : "\(relative)/\(name)"
                var status = stat()
                guard lstat("\(folder)/\(path)", &status) == 0 else { continue }
                let isFolder = (status.st_mode & S_IFMT) == S_IFDIR
                let always = path == dockerfile || path == ".dockerignore"
                if ignore.excludes(path) && !always {
                    if isFolder && ignore.mayTakeBack(beneath: path) { walk(path) }
                    continue
                }
                if isFolder {
                    walk(path)
                } else {
                    let size = (status.st_mode & S_IFMT) == S_IFREG ? Int64(status.st_size) : 0
                    bytes += size
                    files += 1
                    byTop[String(path.prefix { $0 != "/" }), default: 0] += size
                }
            }
        }
        walk("")
        let topLevel = byTop.map { Entry(path: $0.key, bytes: $0.value) }
            .sorted { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.path < $1.path }
        return BuildContextMeasurement(bytes: bytes, files: files, topLevel: topLevel)
    }
}
