import HandsOnEngine

/// A chapter of the course, as `Chapters/<id>/chapter.json` describes it.
public struct Chapter: Sendable, Equatable, Decodable {
    public let id: String
    public let title: LocalizedText
    public let summary: LocalizedText
    /// Base images the chapter's builds use (made present by `handson lab prepare`).
    public let baseImages: [String]
    /// What a learner or contestant starts from.
    public let starter: Starter
    public let steps: [Step]
    /// Present where the chapter can grade a submitted answer.
    public let grading: Grading?

    /// Filled in by the loader: the chapter's folder.
    public internal(set) var directory: String = ""

    enum CodingKeys: String, CodingKey { case id, title, summary, baseImages, starter, steps, grading }

    public func step(_ id: String) -> Step? { steps.first { $0.id == id } }
}

/// The starting files: a folder (relative to the chapter's folder) copied as it is, then `files` written over it.
public struct Starter: Sendable, Equatable, Decodable {
    public let directory: String
    /// Files a learner must not change (checked by SHA-256 against the starter's copy).
    public let protectedFiles: [String]
    /// More starting files, destination -> source in the chapter's folder (a shared app with this chapter's own
    /// Dockerfile, say).
    public let files: [String: String]

    enum CodingKeys: String, CodingKey { case directory, protectedFiles, files }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        directory = try container.decode(String.self, forKey: .directory)
        protectedFiles = try container.decodeIfPresent([String].self, forKey: .protectedFiles) ?? []
        files = try container.decodeIfPresent([String: String].self, forKey: .files) ?? [:]
    }
}

public struct Step: Sendable, Equatable, Decodable {
    public let id: String
    public let title: LocalizedText
    /// Markdown file per language, relative to the chapter's folder.
    public let text: LocalizedText
    /// What the learner is asked to run, as argument arrays; `docker` stands for the engine in use.
    public let commands: [[String]]
    public let checks: [CheckSpec]
    public let hints: [Hint]
    public let solution: Solution
    /// Steps that must have passed first.
    public let needs: [String]
    /// Base images the step cannot run without (it is skipped, not failed, where one cannot be had).
    public let requiresImages: [String]
    public let optional: Bool

    enum CodingKeys: String, CodingKey {
        case id, title, text, commands, checks, hints, solution, needs, requiresImages, optional
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        title = try container.decode(LocalizedText.self, forKey: .title)
        text = try container.decode(LocalizedText.self, forKey: .text)
        commands = try container.decodeIfPresent([[String]].self, forKey: .commands) ?? []
        checks = try container.decode([CheckSpec].self, forKey: .checks)
        hints = try container.decodeIfPresent([Hint].self, forKey: .hints) ?? []
        solution = try container.decode(Solution.self, forKey: .solution)
        needs = try container.decodeIfPresent([String].self, forKey: .needs) ?? []
        requiresImages = try container.decodeIfPresent([String].self, forKey: .requiresImages) ?? []
        optional = try container.decodeIfPresent(Bool.self, forKey: .optional) ?? false
    }
}

/// A hint, shown when the check it names fails (or always, with no check named).
public struct Hint: Sendable, Equatable, Decodable {
    public let text: LocalizedText
    public let whenFailing: String?
}

/// The reference solution: files written over the starter (relative to the chapter's folder), then commands.
public struct Solution: Sendable, Equatable, Decodable {
    /// Destination in the working folder -> source in the chapter's folder.
    public let files: [String: String]
    /// Commands to run instead of the step's own; nil runs the step's.
    public let commands: [[String]]?

    enum CodingKeys: String, CodingKey { case files, commands }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        files = try container.decodeIfPresent([String: String].self, forKey: .files) ?? [:]
        commands = try container.decodeIfPresent([[String]].self, forKey: .commands)
    }
}

/// How a submitted answer is graded.
public struct Grading: Sendable, Equatable, Decodable {
    /// The Dockerfile to build, relative to the submission folder.
    public let dockerfile: String
    public let tiers: [SizeTier]
    public let basis: SizeBasis
    /// Checks that must all pass for any score; `$IMAGE` stands for the built image.
    public let gates: [CheckSpec]
    /// Answers with the score each must get (`handson dev check` grades them): one per tier, and failures.
    public let examples: [GradingExample]
    /// For transcripts: the images that count as the answer, in order of preference.
    public let transcriptImages: [String]
    /// Which of a team's grades a contest's scoreboard counts (`handson batch --follow`).
    public let scoring: Scoring

    /// What the tiers read: the image's size (`tiers` of `maxBytes`), or the number of security findings
    /// (`findingTiers` of `maxFindings`, the audit of every `SecurityRule`).
    public let measure: Measure
    public let findingTiers: [FindingTier]
    /// For `rebuildPercent`: `maxPercent` or less of a cold build's time earns `score`.
    public let rebuildTiers: [RebuildTier]
    /// For `rebuildPercent`: the answer's file HandsOn edits before timing the rebuild.
    public let editFile: String?
    /// For `rebuildPercent`: what the chapter's first lessons ask, each worth `points` beside the tier's score (the
    /// tiers score the rebuild's time; the aims the dependency order and the build context).
    public let rebuildAims: [RebuildAim]
    /// Whether an answer's build may reach a network (`RUN` steps, `ADD` of a URL); nil leaves it to the organizer
    /// (`--build-network`), whose default is the engine's own network.
    public let buildNetwork: BuildNetwork?

    /// Whether judging an answer builds it again: graded by rebuild time, or with a `rebuild` gate (a cold build and
    /// timed rebuilds of its own). Such builds need the first build's cache until the judging is over.
    public var buildsDuringJudging: Bool {
        measure == .rebuildPercent
            || gates.contains {
                if case .rebuild = $0.kind { true } else { false }
            }
    }

    /// `best`: a team's highest score, ties going to the earlier; `last`: its latest grade.
    public enum Scoring: String, Sendable, Equatable, Codable { case best, last }

    /// `rebuildPercent`: the time of a rebuild after `editFile` changes, as a percentage of a cold build's.
    public enum Measure: String, Sendable, Equatable, Codable { case size, securityFindings, rebuildPercent }

    /// "`maxFindings` or fewer findings: `score`".
    /// "`maxFindings` or fewer findings, of which `maxSecrets` or fewer are secrets (no limit when absent): `score`".
    /// A secret limit lets a chapter's first step (no secret) earn more than the starter though the other findings
    /// stay.
    public struct FindingTier: Sendable, Equatable, Codable {
        public let maxFindings: Int
        public var maxSecrets: Int? = nil
        public let score: Int
    }

    /// "A rebuild in `maxPercent`% or less of a cold build's time: `score`".
    public struct RebuildTier: Sendable, Equatable, Codable {
        public let maxPercent: Int
        public let score: Int
    }

    /// One aim of a chapter graded by rebuild time, and its points: `reuses`, an instruction (a `RUN` running that
    /// command) the rebuild must take from the cache and never run again; or the build context's rules.
    public struct RebuildAim: Sendable, Equatable, Decodable {
        public let id: CheckID
        public let points: Int
        public let kind: Kind

        public enum Kind: Sendable, Equatable {
            case reuses(String)
            case buildContext(maxBytes: Int64?, absentPaths: [String])
        }

        public init(id: CheckID, points: Int, kind: Kind) {
            self.id = id
            self.points = points
            self.kind = kind
        }

        enum CodingKeys: String, CodingKey { case id, points, reuses, maxBytes, absentPaths }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decode(CheckID.self, forKey: .id)
            points = try container.decode(Int.self, forKey: .points)
            if let command = try container.decodeIfPresent(String.self, forKey: .reuses) {
                kind = .reuses(command)
            } else {
                kind = .buildContext(
                    maxBytes: try container.decodeIfPresent(Int64.self, forKey: .maxBytes),
                    absentPaths: try container.decodeIfPresent([String].self, forKey: .absentPaths) ?? [])
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case dockerfile, tiers, basis, gates, examples, transcriptImages, scoring, measure, findingTiers
        case rebuildTiers, editFile, rebuildAims, buildNetwork
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        dockerfile = try container.decodeIfPresent(String.self, forKey: .dockerfile) ?? "Dockerfile"
        measure = try container.decodeIfPresent(Measure.self, forKey: .measure) ?? .size
        findingTiers = try container.decodeIfPresent([FindingTier].self, forKey: .findingTiers) ?? []
        rebuildTiers = try container.decodeIfPresent([RebuildTier].self, forKey: .rebuildTiers) ?? []
        editFile = try container.decodeIfPresent(String.self, forKey: .editFile)
        rebuildAims = try container.decodeIfPresent([RebuildAim].self, forKey: .rebuildAims) ?? []
        buildNetwork = try container.decodeIfPresent(BuildNetwork.self, forKey: .buildNetwork)
        // Size tiers are what a size-graded chapter needs; one graded by findings may leave them out.
        tiers =
            measure == .size
            ? try container.decode([SizeTier].self, forKey: .tiers)
            : try container.decodeIfPresent([SizeTier].self, forKey: .tiers) ?? []
        if measure == .securityFindings && findingTiers.isEmpty {
            throw DecodingError.keyNotFound(
                CodingKeys.findingTiers,
                .init(codingPath: decoder.codingPath, debugDescription: "grading by findings needs findingTiers"))
        }
        if measure == .rebuildPercent && rebuildTiers.isEmpty {
            throw DecodingError.keyNotFound(
                CodingKeys.rebuildTiers,
                .init(codingPath: decoder.codingPath, debugDescription: "grading by rebuild time needs rebuildTiers"))
        }
        if measure == .rebuildPercent && editFile == nil {
            throw DecodingError.keyNotFound(
                CodingKeys.editFile,
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "grading by rebuild time needs the file to edit (editFile)"))
        }
        basis = try container.decodeIfPresent(SizeBasis.self, forKey: .basis) ?? .displayed
        gates = try container.decodeIfPresent([CheckSpec].self, forKey: .gates) ?? []
        examples = try container.decodeIfPresent([GradingExample].self, forKey: .examples) ?? []
        transcriptImages = try container.decodeIfPresent([String].self, forKey: .transcriptImages) ?? []
        scoring = try container.decodeIfPresent(Scoring.self, forKey: .scoring) ?? .best
    }

    public var sizeTiers: SizeTiers { SizeTiers(tiers, basis: basis) }

    /// The score for `count` findings: the best tier it is within, else 0.
    public func score(findings count: Int, secrets: Int = 0) -> Int {
        findingTiers.filter { count <= $0.maxFindings && secrets <= ($0.maxSecrets ?? Int.max) }.map(\.score).max()
            ?? 0
    }

    /// The score for a rebuild that took `percent`% of its reference: the best tier it is within, else 0.
    public func score(rebuildPercent percent: Int) -> Int {
        rebuildTiers.filter { percent <= $0.maxPercent }.map(\.score).max() ?? 0
    }

    /// Every score a grade by rebuild time can give: the points of any set of aims, plus 0 or a tier's score.
    public var rebuildScores: Set<Int> {
        var sums: Set<Int> = [0]
        for aim in rebuildAims { sums.formUnion(sums.map { $0 + aim.points }) }
        return Set(sums.flatMap { sum in ([0] + rebuildTiers.map(\.score)).map { min(100, sum + $0) } })
    }
}

/// An answer a chapter ships to prove its grading: the starter with `files` written over it, and its score.
public struct GradingExample: Sendable, Equatable, Decodable {
    public let name: String
    /// Destination in the answer folder -> source in the chapter's folder.
    public let files: [String: String]
    public let score: Int
    /// The builders that can build it (one using `RUN --mount` has no classic builder); nil: every builder.
    public let builders: [ImageBuilder]?
}
