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
            return "cannot make the report folder \(folder): \(reason)"
        case .reportFolderBusy(let folder):
            return "another `handson batch` is writing to \(folder); wait for it, or choose another --out"
        case .notAManifest(let path):
            return "\(path) is not a batch manifest (keys chapter, batchID, created); remove it or choose another --out"
        case .otherChapter(let folder, let holds, let wanted):
            return "\(folder) holds results for chapter \(holds), not \(wanted); choose another --out"
        case .notASubmissionsFolder(let folder): return "\(folder) is not a folder of submissions"
        case .unreadable(let folder, let reason): return "cannot read \(folder): \(reason)"
        case .reportUnwritable(let path, let reason): return "cannot write \(path): \(reason)"
        }
    }
}
