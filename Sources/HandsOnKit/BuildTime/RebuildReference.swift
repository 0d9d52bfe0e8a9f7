import Foundation
import Synchronization

/// The reference rebuilds measured on one engine, shared by the copies of its `ContainerEngine` value: a batch (or
/// `dev check`) measures the chapter's starter once per engine and set of build limits, not once per answer. A failed
/// or cancelled measurement is not kept.
final class RebuildReferenceMemo: Sendable {
    typealias Outcome = (result: Result<Double, RebuildTrial.Failure>, outputs: [String])
    private let tasks = Mutex<[String: Task<Outcome, any Error>]>([:])

    /// The reference for `key`, measured by `measure` unless one was (or is being) measured; `measured` says whether
    /// this call measured it (and so owns the outputs to clean up).
    func reference(key: String, measure: @escaping @Sendable () async throws -> Outcome) async throws
        -> (outcome: Outcome, measured: Bool)
    {
        let (task, measured) = tasks.withLock { tasks in
            if let task = tasks[key] { return (task, false) }
            let task = Task { try await measure() }
            tasks[key] = task
            return (task, true)
        }
        do {
            let outcome = try await withTaskCancellationHandler {
                try await task.value
            } onCancel: {
                if measured { task.cancel() }
            }
            if case .failure = outcome.result { forget(key, task) }
            return (outcome, measured)
        } catch {
            forget(key, task)
            throw error
        }
    }

    private func forget(_ key: String, _ task: Task<Outcome, any Error>) {
        tasks.withLock { tasks in
            if tasks[key] == task { tasks[key] = nil }
        }
    }
}
