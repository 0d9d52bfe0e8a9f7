/// Runs programs. Everything that starts a process goes through this, so unit tests can fake it.
public protocol ProcessRunning: Sendable {
    /// Runs the request to its end (or its timeout, or the calling task's cancellation) and returns what it
    /// printed and how it ended.
    func run(_ request: ProcessRequest) async throws -> ProcessResult
}
