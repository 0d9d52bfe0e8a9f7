import HandsOnEngine
import HandsOnMessages

/// Why a batch cannot start or cannot write its reports.
public enum BatchError: Equatable, MessageError {
    case reportFolderUnwritable(folder: String, reason: String)
    case reportFolderBusy(String)
    case notAManifest(String)
    case otherChapter(folder: String, holds: String, wanted: String)
    case notASubmissionsFolder(String)
    case unreadable(folder: String, reason: String)
    case reportUnwritable(path: String, reason: String)

    public var message: Message {
        switch self {
        case .reportFolderUnwritable(let folder, let reason):
            return Message(.error.batch.reportFolderUnwritable, ["folder": "\(folder)", "reason": "\(reason)"])
        case .reportFolderBusy(let folder):
            return Message(.error.batch.reportFolderBusy, ["folder": "\(folder)"])
        case .notAManifest(let path):
            return Message(.error.batch.notAManifest, ["path": "\(path)"])
        case .otherChapter(let folder, let holds, let wanted):
            return Message(
                .error.batch.otherChapter, ["folder": "\(folder)", "holds": "\(holds)", "wanted": "\(wanted)"])
        case .notASubmissionsFolder(let folder):
            return Message(.error.batch.notASubmissionsFolder, ["folder": "\(folder)"])
        case .unreadable(let folder, let reason):
            return Message(.error.batch.unreadable, ["folder": "\(folder)", "reason": "\(reason)"])
        case .reportUnwritable(let path, let reason):
            return Message(.error.batch.reportUnwritable, ["path": "\(path)", "reason": "\(reason)"])
        }
    }
}
