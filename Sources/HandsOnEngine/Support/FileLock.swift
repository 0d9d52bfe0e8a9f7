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
    ///
    /// The descriptor becomes the object's only once the lock is had: a class whose properties are all set runs its
    /// `deinit` when its initializer then fails, and `release` would close the descriptor a second time (by then
    /// perhaps another thread's newly opened pipe: a child's output was lost that way, once, in a test run).
    public init?(path: String) throws {
        let opened = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard opened >= 0 else {
            throw SupportError.lockUnavailable(path: path, reason: String(cString: strerror(errno)))
        }
        while flock(opened, LOCK_EX | LOCK_NB) != 0 {
            if errno == EWOULDBLOCK {
                close(opened)
                return nil
            }
            guard errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(opened)
                throw SupportError.lockUnavailable(path: path, reason: reason)
            }
        }
        descriptor = opened
    }

    public func release() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
