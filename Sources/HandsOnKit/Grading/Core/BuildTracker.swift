/// Told when a grade's builds begin and end on its engine (a batch's engine, which removes BuildKit's cache records
/// once its builds are over): a grade's builds may have to wait for such a removal under way, which must not take
/// records from under them.
protocol BuildTracker: Sendable {
    /// A grade's builds are about to begin here; returns when they may.
    func buildsBegin() async
    /// The grade's builds are over (where judging builds again, after the judging); `cleanly`: the first build
    /// ended by itself and nothing builds on (not timed out, cancelled or failed to start, when the engine may
    /// still hold its records). Returns at once.
    func buildsEnded(cleanly: Bool) async
}
