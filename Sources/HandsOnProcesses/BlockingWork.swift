import Foundation

/// Blocking work (a walk over thousands of files, a folder's copy or hash) run on a thread of its own, so the
/// cooperative pool's few threads (two on a 2-core machine) go on running other tasks meanwhile. The work is not
/// cancelled with the calling task: it ends by itself, and the caller sees the cancellation afterwards.
public enum BlockingWork {
    public static func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try work() }) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    public static func run<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async -> Value {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
}
