import Foundation
import Testing

@testable import HandsOnProcesses

@Suite("Blocking work on threads of its own")
struct BlockingWorkTests {
    /// Eight works that each block until all eight have started: on the cooperative pool (two threads here) they
    /// could never all start; each waits at most 10 s, so a failure ends instead of hanging.
    @Test func blockedWorksDoNotHoldThePool() async {
        let started = LockedBox(0)
        let count = 8
        let allMet = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<count {
                group.addTask {
                    await BlockingWork.run {
                        started.withLock { $0 += 1 }
                        let deadline = Date().addingTimeInterval(10)
                        while started.withLock({ $0 }) < count && Date() < deadline { usleep(1000) }
                        return started.withLock { $0 } >= count
                    }
                }
            }
            return await group.reduce(true) { $0 && $1 }
        }
        #expect(allMet)
    }

    struct Refused: Error, Equatable {}

    @Test func anErrorOfTheWorkReachesTheCaller() async {
        await #expect(throws: Refused.self) {
            try await BlockingWork.run { () throws -> Int in throw Refused() }
        }
        let value = try? await BlockingWork.run { () throws -> Int in 42 }
        #expect(value == 42)
    }
}
