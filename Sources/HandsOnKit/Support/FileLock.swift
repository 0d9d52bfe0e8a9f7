import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive lock on a file (flock), held until released or the object goes away. Separate opens conflict
/// even within one process, so parallel builders in one run wait for each other as separate processes do.
public final class FileLock {
    private var descriptor: Int32

    /// Waits until the lock is had, trying every `interval` without holding a thread (another holder may keep it for
    /// minutes); ends with `CancellationError` when the task is cancelled.
    public static func acquire(path: String, interval: Duration = .milliseconds(200)) async throws -> FileLock {
        while true {
            if let lock = try FileLock(path: path) { return lock }
            try await Task.sleep(for: interval)
        }
    }

    /// Takes the lock if no one else holds it (never waits: `acquire` waits without holding a thread); nil when
    /// someone does.
    public init?(path: String) throws {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw SupportError.lockUnavailable(path: path, reason: String(cString: strerror(errno)))
        }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EWOULDBLOCK {
                close(descriptor)
                return nil
            }
            guard errno == EINTR else {
                close(descriptor)
                throw SupportError.lockUnavailable(path: path, reason: String(cString: strerror(errno)))
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
