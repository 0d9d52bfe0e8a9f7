import HandsOnEngine

/// What happens around a grade's builds and to what it made, by who grades it. Alone (`GradeAlone`, the defaults),
/// a grade lists the build cache before its build and removes its new records after it, and removes its image and
/// stage images before it returns. A batch's engine (`BatchGradeLifecycle`) instead removes the graded image while
/// the next grade begins, keeps stage images and cache records for one sweep when the engine's builds are over, and
/// holds a grade's builds while such a sweep is under way.
public protocol GradeLifecycle: Sendable {
    /// Whether the grade itself removes the cache records its build adds (false: the caller sweeps them).
    var gradeSweepsBuildCache: Bool { get }
    /// Returns once no removal of an earlier grade's images is under way (timed builds run with none beside them).
    func removalsFinished() async
    /// A grade's builds are about to begin; returns when they may.
    func buildsBegin() async
    /// The grade's builds are over (where judging builds again, after the judging); `cleanly`: the first build
    /// ended by itself and nothing builds on (not timed out, cancelled or failed to start, when the engine may still
    /// hold its records). Returns at once.
    func buildsEnded(cleanly: Bool) async
    /// The graded image is no longer needed.
    func gradedImageDone(_ tag: String, on engine: any EngineOperations) async
    /// A grade's builds made these untagged stage images; `removeNow` where a grade alone must remove them (earlier
    /// stages, or a rebuild's starter: a single stage's step images go with the image's tag).
    func stageImagesBuilt(_ ids: [String], removeNow: Bool, on engine: any EngineOperations) async
}

extension GradeLifecycle {
    public var gradeSweepsBuildCache: Bool { true }
    public func removalsFinished() async {}
    public func buildsBegin() async {}
    public func buildsEnded(cleanly: Bool) async {}
    public func gradedImageDone(_ tag: String, on engine: any EngineOperations) async {
        await engine.removeImages([tag])
    }
    public func stageImagesBuilt(_ ids: [String], removeNow: Bool, on engine: any EngineOperations) async {
        if removeNow { await engine.removeUntaggedImages(ids) }
    }
}

/// One grade on its own: everything it made is removed before it returns.
public struct GradeAlone: GradeLifecycle {
    public init() {}
}

/// Told when a grade's builds begin and end on its engine (a batch's engine, which removes BuildKit's cache records
/// once its builds are over): a grade's builds may have to wait for such a removal under way, which must not take
/// records from under them.
protocol BuildTracker: Sendable {
    /// A grade's builds are about to begin here; returns when they may.
    func buildsBegin() async
    /// The grade's builds are over; see `GradeLifecycle.buildsEnded(cleanly:)`. Returns at once.
    func buildsEnded(cleanly: Bool) async
}
