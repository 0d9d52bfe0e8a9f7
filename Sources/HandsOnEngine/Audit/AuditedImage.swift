import Foundation
import HandsOnFormats
import HandsOnMessages
import HandsOnProcesses

/// Everything the audit reads of one image: its layers (the measurement, with the base image's layers told), what the
/// answer's own layers' files hold, its config, its user as the runtime resolves it and as the running process has it.
public struct AuditedImage: Sendable {
    /// A file of one of the answer's layers and what it holds.
    public struct LayerContent: Sendable, Equatable {
        public let finding: ContentFinding
        /// From 1.
        public let layer: Int
        public let inFinalImage: Bool
    }

    /// Text of the image's config a secret can hide in: an `Env` entry, a label, `Cmd`, `Entrypoint`, a history line.
    public struct ConfigText: Sendable, Equatable {
        public enum Field: String, Sendable {
            case env = "Env"
            case labels = "Labels"
            case cmd = "Cmd"
            case entrypoint = "Entrypoint"
            case history
        }
        public let field: Field
        /// The variable's or label's name; for a history line, the instruction (as the history shows it).
        public let name: String
        public let text: String
    }

    public var measurement: ImageSizeMeasurement
    /// How many of the lowest layers are the base image's (`measurement.baseImage`).
    public var baseLayers: Int
    public var user: ImageUser
    /// What the engine shows as the user of the running container's processes (uids, or names on Podman); nil when
    /// the image was not run.
    public var runningUsers: [String]?
    public var contents: [LayerContent]
    public var config: [ConfigText]
    /// Marks of the answer's layers (`"<layer> <path>"`) whose file is the base image's own, byte for byte.
    public var baseOwnFiles: Set<String>
    /// The final image's `/etc/passwd`, by which a user name the engine shows is read (Podman shows names).
    public var passwd: String?

    public init(
        measurement: ImageSizeMeasurement, baseLayers: Int = 0, user: ImageUser, runningUsers: [String]? = nil,
        contents: [LayerContent] = [], config: [ConfigText] = [], baseOwnFiles: Set<String> = [],
        passwd: String? = nil
    ) {
        self.passwd = passwd
        self.measurement = measurement
        self.baseLayers = baseLayers
        self.user = user
        self.runningUsers = runningUsers
        self.contents = contents
        self.config = config
        self.baseOwnFiles = baseOwnFiles
    }

    /// The files of the answer's layers (layer from 1, path) that hold a secret by name or content, each once: those
    /// the audit compares with the base's file at the same path.
    static func secretFiles(_ measurement: ImageSizeMeasurement, _ contents: [LayerContent], baseLayers: Int) -> [(
        layer: Int, path: String
    )] {
        var seen = Set<String>()
        let named = measurement.marks.filter { $0.layer > baseLayers && $0.mark.kind == .secretName }.map {
            ($0.layer, $0.mark.path)
        }
        let held = contents.filter { !$0.finding.patterns.isEmpty }.map {
            ($0.layer, String($0.finding.path.split(separator: "!").first ?? ""))
        }
        return (named + held).filter { seen.insert("\($0.0) \($0.1)").inserted }
    }

    /// Whether a running process's user, as the engine shows it, is root.
    public static func isRootUser(_ shown: String) -> Bool { shown == "root" || ImageUser.number(shown) == 0 }
}
