import Foundation

/// A cache's file written whole: the bytes go to a new file beside it, which is renamed over it, so a reader finds
/// the old file or the new one, never part of one. Not flushed to the disk (`.atomic` writes flush each file, a
/// pause on a busy grading host): a cache file lost to a power cut is only measured again.
enum CacheFile {
    /// Writes `data` to `path`; false when it could not (nothing is left behind).
    @discardableResult
    static func replace(_ path: String, with data: Data) -> Bool {
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        let temporary = "\(path[..<slash]).\(path[slash...]).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
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
}
