import Foundation
import HandsOnMessages

/// Why the course files or a lock file could not be had.
public enum SupportError: Equatable, MessageError {
    case courseFilesNotFound
    case lockUnavailable(path: String, reason: String)

    public var message: Message {
        switch self {
        case .courseFilesNotFound:
            return
                Message(.error.support.courseFilesNotFound)
        case .lockUnavailable(let path, let reason):
            return Message(.error.support.lockUnavailable, ["path": "\(path)", "reason": "\(reason)"])
        }
    }
}
