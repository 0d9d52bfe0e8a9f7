import HandsOnMessages

/// Why the lab's base images could not be made.
public enum LabError: Error, Equatable, CustomStringConvertible {
    case noDebianMirror
    case debootstrapMissing
    case debootstrapFailed(String)
    /// A step of assembling a root file system failed (`tar`, `cp`, `busybox --list`).
    case stepFailed(String)
    case packageMissing(package: String, root: String)

    public var description: String {
        switch self {
        case .noDebianMirror:
            return say(.error.lab.noDebianMirror)
        case .debootstrapMissing:
            return say(.error.lab.debootstrapMissing)
        case .debootstrapFailed(let detail): return say(.error.lab.debootstrapFailed, ["detail": "\(detail)"])
        case .stepFailed(let detail): return detail
        case .packageMissing(let package, let root):
            return say(.error.lab.packageMissing, ["package": "\(package)", "root": "\(root)"])
        }
    }
}
