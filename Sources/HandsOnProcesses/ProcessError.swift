import Foundation
import HandsOnMessages

/// Why a child could not be started at all.
public enum ProcessError: Equatable, MessageError {
    case executableNotFound(String)
    case inputFileUnreadable(String)
    case spawnFailed(executable: String, errno: Int32)

    public var message: Message {
        switch self {
        case .executableNotFound(let name):
            return Message(.error.process.executableNotFound, ["name": "\(name)"])
        case .inputFileUnreadable(let path):
            return Message(.error.process.inputFileUnreadable, ["path": "\(path)"])
        case .spawnFailed(let executable, let code):
            return Message(
                .error.process.spawnFailed,
                ["executable": executable, "reason": String(cString: strerror(code))])
        }
    }
}
