import HandsOnEngine
import HandsOnMessages

/// A check's id: the chapter's own (`health`, `prints-ok`) or one of the grader's, named here.
public struct CheckID: RawRepresentable, Hashable, Codable, Sendable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    public var description: String { rawValue }

    /// The answer folder is there and is a folder.
    public static let submission: CheckID = "submission"
    /// The answer's Dockerfile is there and readable.
    public static let dockerfile: CheckID = "dockerfile"
    /// No symbolic link points out of the answer folder.
    public static let symlinks: CheckID = "symlinks"
    /// The answer folder is small enough to send to the engine.
    public static let contextSize: CheckID = "context-size"
    /// The build's limits can be held (or the organizer let the grade go on without them).
    public static let buildLimits: CheckID = "build-limits"
    /// The grading host had the free space it keeps (`--disk-reserve`): a grade without it is not graded.
    public static let diskSpace: CheckID = "disk-space"
    /// The Dockerfile builds.
    public static let builds: CheckID = "builds"
    /// The image's size and the tier it reaches.
    public static let size: CheckID = "size"
    /// The rebuild after one edited file, timed against the cold build (a chapter graded by rebuild time).
    public static let rebuild: CheckID = "rebuild"
    /// HandsOn's edit before the timed rebuild reached the rebuilt image (its program prints the edit's mark).
    public static let edit: CheckID = "edit"
    /// The security findings a chapter graded by them counts.
    public static let findings: CheckID = "findings"
    /// The engine answered throughout the grade.
    public static let engine: CheckID = "engine"
    /// The image to grade is on the engine (a team's machine).
    public static let image: CheckID = "image"
}

/// What one check found: pass or fail, why, and the value it measured.
public struct CheckResult: Sendable, Equatable, Codable {
    public let id: CheckID
    public let passed: Bool
    /// Why, as it reads in the language the check ran in (what older readers and tools read).
    public let message: String
    /// Why, as a catalog key and its values: what tools match on, and what is rendered in the reader's language.
    /// Nil in results saved before it was recorded.
    public let reason: Message?
    public let measured: String?

    public init(id: CheckID, passed: Bool, reason: Message, measured: String? = nil) {
        self.id = id
        self.passed = passed
        self.message = reason.text()
        self.reason = reason
        self.measured = measured
    }

    /// A result whose text is none of HandsOn's sentences (shown as it is in every language).
    public init(id: CheckID, passed: Bool, message: String, measured: String? = nil) {
        self.init(id: id, passed: passed, reason: .literal(message), measured: measured)
    }

    /// Why, in `language`.
    public func text(in language: Language = .current) -> String { reason?.text(in: language) ?? message }

    /// Two results are the same when they say the same thing (id, outcome, sentence, measured value); the reason's
    /// form, a key with values or a literal, is how it was said.
    public static func == (left: CheckResult, right: CheckResult) -> Bool {
        left.id == right.id && left.passed == right.passed && left.message == right.message
            && left.measured == right.measured
    }

    /// The same result with its message in `language`.
    public func rendered(in language: Language) -> CheckResult {
        guard let reason else { return self }
        return CheckResult(id: id, passed: passed, reason: reason, measured: measured, in: language)
    }

    private init(id: CheckID, passed: Bool, reason: Message, measured: String?, in language: Language) {
        self.id = id
        self.passed = passed
        self.message = reason.text(in: language)
        self.reason = reason
        self.measured = measured
    }
}

/// Everything a check may look at.
public struct CheckContext: Sendable {
    public let engine: any EngineOperations
    /// The learner's or contestant's folder.
    public let workingDirectory: String
    /// The chapter's starter, for "unchanged" checks with no digest written down.
    public let starterDirectory: String?
    /// What `$IMAGE` stands for (the image under test when grading).
    public let subjectImage: String?
    /// Seconds a container started by a check may run.
    public let runTimeout: Double
    /// Labels on every container a check starts, so they can be found and removed.
    public let containerLabels: [String: String]
    /// The CPUs every container a check starts may use, when a grade is pinned to CPUs.
    public var cpuset: String?
    /// More `run` options for every container a check starts: `--cpuset-cpus` when a grade is pinned.
    public var runArguments: [String] { cpuset.map { ["--cpuset-cpus", $0] } ?? [] }
    /// Bytes an answer's serving container may write while it runs (the grade's disk limit, where it holds); nil: not
    /// watched.
    public var runDiskLimitBytes: Int64?
    /// Where the container's processes and cgroup are read for that limit (`/proc`, `/sys/fs/cgroup`).
    public var processRoot = "/proc"
    public var cgroupRoot = "/sys/fs/cgroup"
    /// Set when the files to check are on the engine's machine, not here (a team's machine graded over its engine).
    public var filesOnEngine: FilesOnEngine?

    public init(
        engine: any EngineOperations, workingDirectory: String, starterDirectory: String? = nil,
        subjectImage: String? = nil,
        runTimeout: Double = Grader.defaultRunTimeout, containerLabels: [String: String] = ["org.handson.check": "true"]
    ) {
        self.engine = engine
        self.workingDirectory = workingDirectory
        self.starterDirectory = starterDirectory
        self.subjectImage = subjectImage
        self.runTimeout = runTimeout
        self.containerLabels = containerLabels
    }

    /// An image name from a check, with `$IMAGE` replaced.
    func image(_ name: String) -> String { name == "$IMAGE" ? (subjectImage ?? name) : name }
}

/// A folder on the engine's machine that "unchanged" checks read through the engine; nil when none was given.
public struct FilesOnEngine: Sendable {
    public let folder: String?
    public init(folder: String?) { self.folder = folder }
}
