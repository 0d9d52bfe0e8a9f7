import CSpawnSupport
import Glibc
import Synchronization

/// A descriptor the supervisor polls, made readable to say "stop the child": written from a task's cancellation
/// handler, closed by the supervisor when it is done (the lock keeps a late `raise` off a reused descriptor).
package final class StopSwitch: Sendable {
    private let descriptors: Mutex<(read: Int32, write: Int32)?>

    package init() {
        var fds: [Int32] = [-1, -1]
        if handson_pipe_cloexec(&fds) == 0 {
            _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
            descriptors = Mutex((fds[0], fds[1]))
        } else {
            descriptors = Mutex(nil)
        }
    }

    /// The end to poll, or -1.
    package var readEnd: Int32 { descriptors.withLock { $0?.read ?? -1 } }

    package func raise() {
        descriptors.withLock { fds in
            guard let fds else { return }
            var byte: UInt8 = 1
            _ = write(fds.write, &byte, 1)
        }
    }

    package func close() {
        descriptors.withLock { fds in
            guard let open = fds else { return }
            _ = Glibc.close(open.read)
            _ = Glibc.close(open.write)
            fds = nil
        }
    }
}
