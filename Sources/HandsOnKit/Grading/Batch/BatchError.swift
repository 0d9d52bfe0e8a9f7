import HandsOnMessages

/// Why a batch cannot start or cannot write its reports.
public enum BatchError: Error, Equatable, CustomStringConvertible {
    case reportFolderUnwritable(folder: String, reason: String)
    case reportFolderBusy(String)
    case notAManifest(String)
    case otherChapter(folder: String, holds: String, wanted: String)
    case notASubmissionsFolder(String)
    case unreadable(folder: String, reason: String)
    case reportUnwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .reportFolderUnwritable(let folder, let reason):
            return say(.error.batch.reportFolderUnwritable, ["folder": "\(folder)", "reason": "\(reason)"])
        case .reportFolderBusy(let folder):
            return say(.error.batch.reportFolderBusy, ["folder": "\(folder)"])
        case .notAManifest(let path):
            return say(.error.batch.notAManifest, ["path": "\(path)"])
        case .otherChapter(let folder, let holds, let wanted):
            return say(.error.batch.otherChapter, ["folder": "\(folder)", "holds": "\(holds)", "wanted": "\(wanted)"])
        case .notASubmissionsFolder(let folder):
            return say(.error.batch.notASubmissionsFolder, ["folder": "\(folder)"])
        case .unreadable(let folder, let reason):
            return say(.error.batch.unreadable, ["folder": "\(folder)", "reason": "\(reason)"])
        case .reportUnwritable(let path, let reason):
            return say(.error.batch.reportUnwritable, ["path": "\(path)", "reason": "\(reason)"])
        }
    }
}
