import Synchronization

/// The time a wait is measured on, passed in so a test need not wait: the real monotonic clock, or a virtual one
/// whose every sleep moves it on at once.
public struct WaitingClock: Sendable {
    /// The time now, as an offset from the clock's own origin.
    public let now: @Sendable () -> Duration
    /// Waits `duration` (throws `CancellationError` when the task is cancelled).
    public let sleep: @Sendable (Duration) async throws -> Void

    public init(now: @escaping @Sendable () -> Duration, sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.now = now
        self.sleep = sleep
    }

    /// `ContinuousClock`: the time a program's waits really take.
    public static let real: WaitingClock = {
        let origin = ContinuousClock.now
        return WaitingClock(now: { ContinuousClock.now - origin }, sleep: { try await Task.sleep(for: $0) })
    }()

    /// A clock that stands still until it is slept on, and then moves on by the whole sleep at once.
    public static func virtual() -> WaitingClock {
        let elapsed = Mutex<Duration>(.zero)
        return WaitingClock(
            now: { elapsed.withLock { $0 } },
            sleep: { duration in
                try Task.checkCancellation()
                elapsed.withLock { $0 += duration }
                await Task.yield()
            })
    }

    /// Seconds since `start` (a value of `now()`).
    public func seconds(since start: Duration) -> Double { (now() - start).seconds }
}
