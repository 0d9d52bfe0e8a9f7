import Foundation
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

@Suite("A lock on a file")
struct FileLockTests {
    /// A lock that someone else holds is refused without closing anything twice: while one thread asks for it again
    /// and again, another's pipes carry every byte it writes. (A refused lock used to close its descriptor a second
    /// time, in its `deinit`, which could be the other thread's pipe by then.)
    @Test func aRefusedLockClosesNothingOfAnotherThread() async throws {
        let path = NSTemporaryDirectory() + "handson-lock-\(UUID().uuidString.prefix(8))"
        defer { unlink(path) }
        // A write to a pipe whose reading end was closed from under it then fails the test, not the test run. (The
        // children the tests start get every signal's default back: the runner spawns them so.)
        signal(SIGPIPE, SIG_IGN)
        let held = try #require(try FileLock(path: path))
        let refused = Task.detached {
            var count = 0
            for _ in 0..<3000 where (try? FileLock(path: path)) == nil { count += 1 }
            return count
        }
        let lost = Task.detached {
            var lost = 0
            for index in 0..<3000 {
                var ends: [Int32] = [-1, -1]
                guard pipe(&ends) == 0 else { continue }
                // A byte that went elsewhere is missed at once, never waited for.
                _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
                var byte = UInt8(truncatingIfNeeded: index)
                var back: UInt8 = 0
                if write(ends[1], &byte, 1) != 1 || read(ends[0], &back, 1) != 1 || back != byte { lost += 1 }
                close(ends[0])
                close(ends[1])
            }
            return lost
        }
        #expect(await refused.value == 3000)
        #expect(await lost.value == 0)
        held.release()
        #expect(try FileLock(path: path) != nil, "free again once released")
    }
}
