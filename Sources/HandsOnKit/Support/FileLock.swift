import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a file (flock), held until released or the object goes away. Separate opens conflict
/// even within one process, so parallel builders in one run wait for each other as separate processes do.
public final class FileLock {
    private var descriptor: Int32

    /// Blocks until the lock is had.
    public init(path: String) throws {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CommandFailure("cannot open the lock file \(path): \(String(cString: strerror(errno)))") }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                close(descriptor)
                throw CommandFailure("cannot lock \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    public func release() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
