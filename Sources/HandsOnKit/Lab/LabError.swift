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
            return "no Debian mirror found in /etc/apt/sources.list*: set HANDSON_DEBIAN_MIRROR to one"
        case .debootstrapMissing:
            return "debootstrap is needed to build stand-in images: install it with `apt-get install debootstrap`"
        case .debootstrapFailed(let detail): return "debootstrap failed: \(detail)"
        case .stepFailed(let detail): return detail
        case .packageMissing(let package, let root): return "package \(package) is not installed in \(root)"
        }
    }
}
