import Foundation
import HandsOnMessages

/// Why a child could not be started at all.
public enum ProcessError: Error, Equatable, CustomStringConvertible {
    case executableNotFound(String)
    case inputFileUnreadable(String)
    case spawnFailed(executable: String, errno: Int32)

    public var description: String {
        switch self {
        case .executableNotFound(let name):
            return say(.error.process.executableNotFound, ["name": "\(name)"])
        case .inputFileUnreadable(let path):
            return say(.error.process.inputFileUnreadable, ["path": "\(path)"])
        case .spawnFailed(let executable, let code):
            return say(
                .error.process.spawnFailed,
                ["executable": executable, "reason": String(cString: strerror(code))])
        }
    }
}
