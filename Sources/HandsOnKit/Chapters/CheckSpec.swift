import HandsOnEngine
import HandsOnMessages

/// One declarative check; `kind` picks what it measures. Image fields may say `$IMAGE`: the image under test.
public struct CheckSpec: Sendable, Equatable, Decodable {
    public let id: CheckID
    public let kind: CheckKind

    public init(id: CheckID, kind: CheckKind) {
        self.id = id
        self.kind = kind
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, image, atMostBytes, atLeastBytes, smallerThan, atMostFractionOf, fraction, basis, tiers,
            passScore
        case name, port, url, status, jsonField, equals, deadlineSeconds, arguments, stdin, exitCode, contains, matches
        case path, sha256, stages, atLeastStages, finalBase, pinnedTags, execForm, cgoDisabledForScratch, network,
            containerPort, target, dependenciesFirst, nonRootUser, hostNetwork
        case absentPaths, maxWastedBytes, rules, maxFindings, hardened
        case maxBytes, dockerfile, editFile, reuses, maxPercent
    }

    public static let kinds = [
        "imageExists", "imageSize", "imageTiers", "containerRunning", "http", "imageServes",
        "commandOutput", "fileUnchanged", "dockerfile", "imageContents", "imageSecurity", "buildContext", "rebuild",
    ]

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(CheckID.self, forKey: .id)
        let name = try c.decode(String.self, forKey: .kind)
        switch name {
        case "imageExists":
            kind = .imageExists(image: try c.decode(String.self, forKey: .image))
        case "imageSize":
            kind = .imageSize(
                ImageSizeBounds(
                    image: try c.decode(String.self, forKey: .image),
                    atMostBytes: try c.decodeIfPresent(Int64.self, forKey: .atMostBytes),
                    atLeastBytes: try c.decodeIfPresent(Int64.self, forKey: .atLeastBytes),
                    smallerThan: try c.decodeIfPresent(String.self, forKey: .smallerThan),
                    atMostFractionOf: try c.decodeIfPresent(String.self, forKey: .atMostFractionOf),
                    fraction: try c.decodeIfPresent(Double.self, forKey: .fraction),
                    basis: try c.decodeIfPresent(SizeBasis.self, forKey: .basis) ?? .displayed))
        case "imageTiers":
            kind = .imageTiers(
                image: try c.decode(String.self, forKey: .image),
                tiers: SizeTiers(
                    try c.decode([SizeTier].self, forKey: .tiers),
                    basis: try c.decodeIfPresent(SizeBasis.self, forKey: .basis) ?? .displayed),
                passScore: try c.decodeIfPresent(Int.self, forKey: .passScore) ?? 1)
        case "containerRunning":
            kind = .containerRunning(
                image: try c.decode(String.self, forKey: .image),
                name: try c.decodeIfPresent(String.self, forKey: .name),
                port: try c.decodeIfPresent(Int.self, forKey: .port))
        case "http":
            kind = .http(
                HTTPExpectation(
                    url: try c.decode(String.self, forKey: .url),
                    status: try c.decodeIfPresent(Int.self, forKey: .status) ?? 200,
                    jsonField: try c.decodeIfPresent(String.self, forKey: .jsonField),
                    equals: try c.decodeIfPresent(String.self, forKey: .equals),
                    deadlineSeconds: try c.decodeIfPresent(Double.self, forKey: .deadlineSeconds) ?? 20))
        case "imageServes":
            kind = .imageServes(
                ServeExpectation(
                    image: try c.decode(String.self, forKey: .image),
                    containerPort: try c.decodeIfPresent(Int.self, forKey: .containerPort) ?? 9090,
                    path: try c.decodeIfPresent(String.self, forKey: .path) ?? "/health",
                    status: try c.decodeIfPresent(Int.self, forKey: .status) ?? 200,
                    jsonField: try c.decodeIfPresent(String.self, forKey: .jsonField),
                    equals: try c.decodeIfPresent(String.self, forKey: .equals),
                    deadlineSeconds: try c.decodeIfPresent(Double.self, forKey: .deadlineSeconds) ?? 20,
                    hardened: try c.decodeIfPresent(Bool.self, forKey: .hardened) ?? false))
        case "commandOutput":
            kind = .commandOutput(
                CommandExpectation(
                    image: try c.decode(String.self, forKey: .image),
                    arguments: try c.decodeIfPresent([String].self, forKey: .arguments) ?? [],
                    stdin: try c.decodeIfPresent(String.self, forKey: .stdin),
                    exitCode: try c.decodeIfPresent(Int.self, forKey: .exitCode) ?? 0,
                    equals: try c.decodeIfPresent(String.self, forKey: .equals),
                    contains: try c.decodeIfPresent(String.self, forKey: .contains),
                    matches: try c.decodeIfPresent(String.self, forKey: .matches),
                    network: try c.decodeIfPresent(Bool.self, forKey: .network) ?? false,
                    hostNetwork: try c.decodeIfPresent(Bool.self, forKey: .hostNetwork) ?? false))
        case "fileUnchanged":
            kind = .fileUnchanged(
                path: try c.decode(String.self, forKey: .path),
                sha256: try c.decodeIfPresent(String.self, forKey: .sha256))
        case "dockerfile":
            kind = .dockerfile(
                DockerfileExpectation(
                    path: try c.decodeIfPresent(String.self, forKey: .path) ?? "Dockerfile",
                    stages: try c.decodeIfPresent(Int.self, forKey: .stages),
                    atLeastStages: try c.decodeIfPresent(Int.self, forKey: .atLeastStages),
                    finalBase: try c.decodeIfPresent(String.self, forKey: .finalBase),
                    pinnedTags: try c.decodeIfPresent(Bool.self, forKey: .pinnedTags),
                    execForm: try c.decodeIfPresent(Bool.self, forKey: .execForm),
                    cgoDisabledForScratch: try c.decodeIfPresent(Bool.self, forKey: .cgoDisabledForScratch),
                    target: try c.decodeIfPresent(String.self, forKey: .target),
                    dependenciesFirst: try c.decodeIfPresent(Bool.self, forKey: .dependenciesFirst),
                    nonRootUser: try c.decodeIfPresent(Bool.self, forKey: .nonRootUser)))
        case "imageContents":
            kind = .imageContents(
                ImageContentsRules(
                    image: try c.decode(String.self, forKey: .image),
                    absentPaths: try c.decodeIfPresent([String].self, forKey: .absentPaths) ?? [],
                    maxWastedBytes: try c.decodeIfPresent(Int64.self, forKey: .maxWastedBytes)))
        case "imageSecurity":
            kind = .imageSecurity(
                ImageSecurityRules(
                    image: try c.decode(String.self, forKey: .image),
                    rules: try c.decodeIfPresent([SecurityRule].self, forKey: .rules) ?? SecurityRule.allCases,
                    maxFindings: try c.decodeIfPresent(Int.self, forKey: .maxFindings) ?? 0))
        case "buildContext":
            kind = .buildContext(
                BuildContextRules(
                    maxBytes: try c.decodeIfPresent(Int64.self, forKey: .maxBytes),
                    absentPaths: try c.decodeIfPresent([String].self, forKey: .absentPaths) ?? [],
                    dockerfile: try c.decodeIfPresent(String.self, forKey: .dockerfile) ?? "Dockerfile"))
        case "rebuild":
            kind = .rebuild(
                RebuildRules(
                    editFile: try c.decode(String.self, forKey: .editFile),
                    dockerfile: try c.decodeIfPresent(String.self, forKey: .dockerfile) ?? "Dockerfile",
                    reuses: try c.decodeIfPresent(String.self, forKey: .reuses),
                    maxPercent: try c.decodeIfPresent(Int.self, forKey: .maxPercent)))
        default:
            let unknown = UnknownCheckKind(kind: name, known: Self.kinds)
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: c.codingPath + [CodingKeys.kind], debugDescription: "\(unknown)",
                    underlyingError: unknown))
        }
    }
}

/// A check's `kind` that is none HandsOn knows: the chapter's error says so in the reader's language.
struct UnknownCheckKind: MessageError {
    let kind: String
    let known: [String]

    var message: Message {
        Message(.chapterError.unknownCheckKind, ["kind": kind], parts: ["known": .list(known.map(Message.literal))])
    }
}

public enum CheckKind: Sendable, Equatable {
    case imageExists(image: String)
    case imageSize(ImageSizeBounds)
    /// Passes at `passScore` or more.
    case imageTiers(image: String, tiers: SizeTiers, passScore: Int)
    case containerRunning(image: String, name: String?, port: Int?)
    case http(HTTPExpectation)
    /// Starts a container from the image (limits on, a free port on 127.0.0.1) and expects an HTTP answer from it.
    case imageServes(ServeExpectation)
    case commandOutput(CommandExpectation)
    /// Against `sha256`, or the starter's copy of the file when none is given.
    case fileUnchanged(path: String, sha256: String?)
    case dockerfile(DockerfileExpectation)
    /// Rules on what the final image holds: paths that must not be there, a ceiling on wasted bytes.
    case imageContents(ImageContentsRules)
    /// The image's user, shell, package manager, setuid files and secrets in any layer (`SecurityRule`).
    case imageSecurity(ImageSecurityRules)
    /// What the working folder sends the engine as its build context (`.dockerignore` applied).
    case buildContext(BuildContextRules)
    /// A cold build of the working folder, then a rebuild after HandsOn edits one file in a copy (`RebuildTrial`).
    case rebuild(RebuildRules)
}

/// "No Go tool chain in the final image", "wasted bytes under 1MB".
public struct ImageContentsRules: Sendable, Equatable {
    public let image: String
    /// Paths of the final file system that must not exist (a directory counts with everything beneath it).
    public let absentPaths: [String]
    /// At most this many bytes added by one layer and deleted or overwritten by a later one.
    public let maxWastedBytes: Int64?
}

public struct ImageSizeBounds: Sendable, Equatable {
    public let image: String
    public let atMostBytes: Int64?
    public let atLeastBytes: Int64?
    /// Another image this one must be smaller than (exact bytes).
    public let smallerThan: String?
    /// Another image this one must be at most `fraction` of (exact bytes).
    public let atMostFractionOf: String?
    public let fraction: Double?
    public let basis: SizeBasis
}

public struct HTTPExpectation: Sendable, Equatable {
    public let url: String
    public let status: Int
    /// A top-level field of a JSON body, and the value it must have.
    public let jsonField: String?
    public let equals: String?
    public let deadlineSeconds: Double

    public init(url: String, status: Int, jsonField: String?, equals: String?, deadlineSeconds: Double) {
        self.url = url
        self.status = status
        self.jsonField = jsonField
        self.equals = equals
        self.deadlineSeconds = deadlineSeconds
    }
}

public struct ServeExpectation: Sendable, Equatable {
    public let image: String
    public let containerPort: Int
    public let path: String
    public let status: Int
    public let jsonField: String?
    public let equals: String?
    public let deadlineSeconds: Double
    /// Run with a read-only root, no capabilities and no new privileges, and expect no process to run as root.
    public var hardened = false
}

public struct CommandExpectation: Sendable, Equatable {
    public let image: String
    public let arguments: [String]
    public let stdin: String?
    public let exitCode: Int
    public let equals: String?
    public let contains: String?
    /// A regular expression the output must match.
    public let matches: String?
    /// Whether the container gets a network (off unless asked for).
    public let network: Bool
    /// The host's network (to reach a test server on 127.0.0.1); only for chapter steps, never for grading gates.
    public let hostNetwork: Bool
}

public struct DockerfileExpectation: Sendable, Equatable {
    public let path: String
    public let stages: Int?
    public let atLeastStages: Int?
    public let finalBase: String?
    public let pinnedTags: Bool?
    public let execForm: Bool?
    public let cgoDisabledForScratch: Bool?
    /// Judge the image `--target` this stage makes, not the last stage.
    public let target: String?
    /// `go mod download` before the source is copied (layer cache).
    public let dependenciesFirst: Bool?
    /// The final stage runs as a user other than root.
    public let nonRootUser: Bool?
}
