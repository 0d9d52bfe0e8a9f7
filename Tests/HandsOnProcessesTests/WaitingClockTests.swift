import Testing

@testable import HandsOnProcesses

@Suite("The clock waits are measured on")
struct WaitingClockTests {
    @Test func aVirtualClockMovesOnByEachSleepAtOnce() async throws {
        let clock = WaitingClock.virtual()
        let start = clock.now()
        try await clock.sleep(.seconds(10))
        try await clock.sleep(.milliseconds(500))
        #expect(clock.seconds(since: start) == 10.5)
        #expect(clock.now() - start == .milliseconds(10_500), "no real time is counted")
    }

    @Test func aCancelledTasksSleepThrowsAndTheClockStandsStill() async {
        let clock = WaitingClock.virtual()
        let sleeper = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await clock.sleep(.seconds(60))
        }
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.now() == .zero)
    }

    @Test func theRealClockCountsRealTime() async throws {
        let clock = WaitingClock.real
        let start = clock.now()
        try await clock.sleep(.milliseconds(20))
        #expect(clock.now() - start >= .milliseconds(20))
    }
}
