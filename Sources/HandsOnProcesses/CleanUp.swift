/// Runs `body`, then `cleanUp` however the body ends: returned, threw, or its task was cancelled (Ctrl-C).
/// The clean-up's engine commands are not cancellable (`ContainerEngine.cleanUp`), so they run shielded from the
/// cancellation and are ended only by their own timeouts.
public func withCleanUp<Value>(_ body: () async throws -> Value, cleanUp: () async -> Void) async rethrows -> Value {
    let value: Value
    do {
        value = try await body()
    } catch {
        await cleanUp()
        throw error
    }
    await cleanUp()
    return value
}
