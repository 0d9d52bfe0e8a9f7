import Foundation

/// A cache's file written whole: the bytes go to a new file beside it, which is renamed over it, so a reader finds
/// the old file or the new one, never part of one. Not flushed to the disk (`.atomic` writes flush each file, a
/// pause on a busy grading host): a cache file lost to a power cut is only measured again.
enum CacheFile {
    /// Writes `data` to `path`; false when it could not (and then nothing is left behind). A process killed while it
    /// writes leaves its new file (`.<name>.<pid>.<random>.tmp`), which `NewestFiles.keep` removes later.
    @discardableResult
    static func replace(_ path: String, with data: Data) -> Bool {
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        let temporary =
            "\(path[..<slash]).\(path[slash...]).\(getpid()).\(UInt32.random(in: 0...UInt32.max))\(Self.unfinished)"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return false }
        let written = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let count = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { return false }
                offset += count
            }
            return true
        }
        guard close(descriptor) == 0, written, rename(temporary, path) == 0 else {
            unlink(temporary)
            return false
        }
        return true
    }

    /// How the name of a file being written ends.
    static let unfinished = ".tmp"

    /// Whether `name` is a file `replace` began and a killed process never finished (older than `age`).
    static func isLeftOver(_ name: String, modified: Date, now: Date = Date(), age: TimeInterval = 600) -> Bool {
        name.hasPrefix(".") && name.hasSuffix(unfinished) && now.timeIntervalSince(modified) > age
    }
}
