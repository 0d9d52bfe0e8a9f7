/// What one check found: pass or fail, a sentence for people, and the value it measured.
public struct CheckResult: Sendable, Equatable, Codable {
    public let id: String
    public let passed: Bool
    public let message: String
    public let measured: String?

    public init(id: String, passed: Bool, message: String, measured: String? = nil) {
        self.id = id
        self.passed = passed
        self.message = message
        self.measured = measured
    }

    enum CodingKeys: String, CodingKey { case id, passed, message, measured }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(passed, forKey: .passed)
        try container.encode(message, forKey: .message)
        try container.encode(measured, forKey: .measured)
    }
}

/// Everything a check may look at.
public struct CheckContext: Sendable {
    public let engine: ContainerEngine
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
    /// More `run` options for every container a check starts (`--cpuset-cpus` when a grade is pinned to CPUs).
    public var runArguments: [String] = []
    /// Set when the files to check are on the engine's machine, not here (a team's machine graded over its engine).
    public var filesOnEngine: FilesOnEngine?

    public init(
        engine: ContainerEngine, workingDirectory: String, starterDirectory: String? = nil, subjectImage: String? = nil,
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
