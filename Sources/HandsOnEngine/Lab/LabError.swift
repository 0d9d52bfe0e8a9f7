import HandsOnMessages

/// Why the lab's base images could not be made.
public enum LabError: Equatable, MessageError {
    case noDebianMirror
    case debootstrapMissing
    case debootstrapFailed(String)
    /// A step of assembling a root file system failed (`tar`, `cp`, `busybox --list`).
    case stepFailed(String)
    case packageMissing(package: String, root: String)

    public var message: Message {
        switch self {
        case .noDebianMirror:
            return Message(.error.lab.noDebianMirror)
        case .debootstrapMissing:
            return Message(.error.lab.debootstrapMissing)
        case .debootstrapFailed(let detail): return Message(.error.lab.debootstrapFailed, ["detail": "\(detail)"])
        case .stepFailed(let detail): return .literal(detail)
        case .packageMissing(let package, let root):
            return Message(.error.lab.packageMissing, ["package": "\(package)", "root": "\(root)"])
        }
    }
}
