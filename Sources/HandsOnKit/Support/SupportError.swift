import Foundation
import HandsOnMessages

/// Why the course files or a lock file could not be had.
public enum SupportError: Error, Equatable, CustomStringConvertible {
    case courseFilesNotFound
    case lockUnavailable(path: String, reason: String)

    public var description: String {
        switch self {
        case .courseFilesNotFound:
            return
                say(.error.support.courseFilesNotFound)
        case .lockUnavailable(let path, let reason):
            return say(.error.support.lockUnavailable, ["path": "\(path)", "reason": "\(reason)"])
        }
    }
}
