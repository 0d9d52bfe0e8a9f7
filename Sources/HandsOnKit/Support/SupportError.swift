import Foundation

/// Why the course files or a lock file could not be had.
public enum SupportError: Error, Equatable, CustomStringConvertible {
    case courseFilesNotFound
    case lockUnavailable(path: String, reason: String)

    public var description: String {
        switch self {
        case .courseFilesNotFound:
            return
                "cannot find the course files (Chapters/ and apps/): run from the HandsOn folder, install with `make install`, or set HANDSON_HOME"
        case .lockUnavailable(let path, let reason): return "cannot lock \(path): \(reason)"
        }
    }
}
