import Foundation

/// Why a child could not be started at all.
public enum ProcessError: Error, Equatable, CustomStringConvertible {
    case executableNotFound(String)
    case inputFileUnreadable(String)
    case spawnFailed(executable: String, errno: Int32)

    public var description: String {
        switch self {
        case .executableNotFound(let name):
            return "\(name): command not found (not in PATH)"
        case .inputFileUnreadable(let path):
            return "cannot read \(path) to use as standard input"
        case .spawnFailed(let executable, let code):
            return "could not start \(executable): \(String(cString: strerror(code)))"
        }
    }
}
