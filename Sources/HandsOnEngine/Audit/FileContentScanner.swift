import CSpawnSupport
import Foundation

/// What one file of a layer holds that the audit reports: secrets by their patterns, secret names and version control
/// folders inside archives, and what program an executable is.
public struct ContentFinding: Sendable, Equatable {
    /// The file's path in the layer; inside an archive, `outer.tgz!inner/path` (as deep as archives go).
    public var path: String
    /// The secret patterns found (each once), in the rules file's order.
    public var patterns: [SecretPattern] = []
    /// A secret's name inside an archive (`id_rsa`, `*.pem`), or a version control folder there.
    public var marks: [LayerMark] = []
    /// The program an executable is by its content (`BusyBox`, `bash`), whatever its name.
    public var program: ProgramIdentity.Program?
    /// Why an archive was not read to its end (`xz`, `bzip2`, `zstd`, `7z`, `rar`, `unpacked-limit`, `depth`,
    /// `zip-method`): what it holds is unknown, which a contestant must not gain by.
    public var unread: String?

    var isEmpty: Bool { patterns.isEmpty && marks.isEmpty && program == nil && unread == nil }
}

/// Reads a file's bytes as an attacker would: every pattern in them, and inside the archives they are (tar, gzip,
/// zip and jar, found by their first bytes, not their names), each entry's name and bytes, to `maxDepth` archives deep
/// and at most `maxUnpackedBytes` unpacked for one file.
public struct FileContentScanner: Sendable {
    public let patterns: SecretPatterns
    public var maxDepth = 3
    public var maxUnpackedBytes = 256 << 20
    /// The most bytes of one file held at once: a larger file is read in pieces (and not opened as an archive).
    public static let wholeFileLimit = 64 << 20

    public init(patterns: SecretPatterns = .builtIn) { self.patterns = patterns }

    /// The findings of a file whose bytes are all here.
    public func scan(path: String, bytes: UnsafeRawBufferPointer) -> [ContentFinding] {
        var budget = maxUnpackedBytes
        var found: [ContentFinding] = []
        scan(path: path, bytes: bytes, depth: 0, budget: &budget, into: &found)
        return found
    }

    private func scan(
        path: String, bytes: UnsafeRawBufferPointer, depth: Int, budget: inout Int, into found: inout [ContentFinding]
    ) {
        var inside: [ContentFinding] = []
        var unread = NestedArchive.unreadableFormat(bytes)
        if depth >= maxDepth, NestedArchive.isArchive(bytes) { unread = "depth" }
        if depth < maxDepth {
            let listed = NestedArchive.entries(of: bytes, budget: &budget)
            if let reason = listed.unread { unread = reason }
            for entry in listed.entries {
                let inner = "\(path)!\(entry.path)"
                var marked = ContentFinding(path: inner)
                marked.marks = SecretRules.marks(path: entry.path, kind: .file, mode: 0).filter {
                    $0.kind == .secretName || $0.kind == .versionControl
                }
                if !marked.isEmpty { inside.append(marked) }
                entry.bytes.withUnsafeBytes {
                    scan(path: inner, bytes: $0, depth: depth + 1, budget: &budget, into: &inside)
                }
            }
        }
        var finding = ContentFinding(path: path)
        // A pattern an entry holds is that entry's (an uncompressed tar shows it in its own bytes too).
        let insideIDs = Set(inside.flatMap { $0.patterns.map(\.id) })
        finding.patterns = patterns.matches(in: bytes).map(\.pattern).filter { !insideIDs.contains($0.id) }
        if depth == 0 { finding.program = ProgramIdentity.program(in: bytes) }
        finding.unread = unread
        if !finding.isEmpty { found.append(finding) }
        found += inside
    }

    /// The findings of a file on disk: read whole up to `wholeFileLimit`, else in pieces (`PieceScan`), patterns
    /// only.
    public func scanFile(at fullPath: String, path: String, descriptor: Int32? = nil) -> [ContentFinding] {
        let fd = descriptor ?? open(fullPath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return [] }
        defer { if descriptor == nil { close(fd) } }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return [] }
        let size = Int(status.st_size)
        if size <= Self.wholeFileLimit {
            var bytes = [UInt8](repeating: 0, count: size)
            let read = bytes.withUnsafeMutableBytes { Self.readFully(fd, into: $0) }
            return bytes.withUnsafeBytes { scan(path: path, bytes: UnsafeRawBufferPointer(rebasing: $0[..<read])) }
        }
        var pieces = PieceScan(path: path)
        var buffer = [UInt8](repeating: 0, count: PieceScan.piece + PieceScan.overlap)
        var kept = 0
        while true {
            let read = buffer.withUnsafeMutableBytes {
                Self.readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[kept..<(kept + PieceScan.piece)]))
            }
            guard read > 0 else { break }
            buffer.withUnsafeBytes { pieces.scan(UnsafeRawBufferPointer(rebasing: $0[..<(kept + read)]), patterns) }
            let total = kept + read
            kept = min(PieceScan.overlap, total)
            buffer.withUnsafeMutableBytes { all in
                all.baseAddress!.copyMemory(from: all.baseAddress! + (total - kept), byteCount: kept)
            }
            if read < PieceScan.piece { break }
        }
        return pieces.finding.isEmpty ? [] : [pieces.finding]
    }

    static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var filled = 0
        while filled < buffer.count {
            let count = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            filled += count
        }
        return filled
    }
}

/// What program an executable is by what it holds, whatever it is named: a shell or a package manager renamed or
/// copied elsewhere is still one.
public enum ProgramIdentity {
    public enum Program: String, Sendable, Equatable, Codable {
        case busybox = "BusyBox"
        case bash
        case apk
        case dpkg
        case rpm
        public var isShell: Bool { self == .busybox || self == .bash }
    }

    /// Strings each program's binary holds and other programs do not (not zsh's `ZSH_VERSION`: programs that ship
    /// shell hooks hold it too).
    static let markers: [(Program, [UInt8])] = [
        (.busybox, Array("BusyBox v".utf8)), (.bash, Array("GNU bash, version".utf8)),
        (.apk, Array("apk-tools ".utf8)),
        (.dpkg, Array("Debian 'dpkg' package management program".utf8)), (.rpm, Array("RPM version %s".utf8)),
    ]

    /// The program an ELF executable is, or nil.
    static func program(in bytes: UnsafeRawBufferPointer) -> Program? {
        guard bytes.count > 4, bytes[0] == 0x7f, bytes[1] == UInt8(ascii: "E"), bytes[2] == UInt8(ascii: "L"),
            bytes[3] == UInt8(ascii: "F"), let base = bytes.baseAddress
        else { return nil }
        for (program, marker) in markers {
            let hit = marker.withUnsafeBytes {
                handson_memmem(base, UInt(bytes.count), $0.baseAddress!, UInt(marker.count))
            }
            if hit != nil { return program }
        }
        return nil
    }
}

/// A file too large to hold whole, read in pieces of 16 MiB that overlap by 4 KiB (a pattern across two pieces is still
/// seen): the same pieces whether the file comes from a folder or an archive, and whether it is text or a program is
/// told by its first piece.
struct PieceScan {
    static let piece = 16 << 20
    static let overlap = 4096
    var finding: ContentFinding
    private var isText: Bool?

    init(path: String) { finding = ContentFinding(path: path) }

    mutating func scan(_ window: UnsafeRawBufferPointer, _ patterns: SecretPatterns) {
        if isText == nil {
            finding.program = ProgramIdentity.program(in: window)
            isText = !SecretPatterns.isExecutable(window)
        }
        for match in patterns.matches(in: window, text: isText) where !finding.patterns.contains(match.pattern) {
            finding.patterns.append(match.pattern)
        }
    }
}
