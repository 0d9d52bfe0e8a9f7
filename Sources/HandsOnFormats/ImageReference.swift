import Foundation

/// An image reference reduced to the form engines agree on, so that `go-image:base`,
/// `localhost/go-image:base` and `docker.io/library/go-image:base` compare equal.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// Repository without the default registry prefixes (`docker.io/library/`, `localhost/`).
    public let repository: String
    public let tag: String

    public init(_ text: String) {
        var name = text.trimmingCharacters(in: .whitespaces)
        var tag = "latest"
        if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
        if let colon = name.lastIndex(of: ":"), !name[name.index(after: colon)...].contains("/") {
            tag = String(name[name.index(after: colon)...])
            name = String(name[..<colon])
        }
        for prefix in [
            "docker.io/library/", "index.docker.io/library/", "registry-1.docker.io/library/",
            "docker.io/", "index.docker.io/", "localhost/",
        ] where name.hasPrefix(prefix) {
            name.removeFirst(prefix.count)
            break
        }
        repository = name
        self.tag = tag
    }

    public var description: String { "\(repository):\(tag)" }

    /// The fully qualified name podman stores images under (docker accepts it too).
    public var qualified: String {
        let firstPart = repository.split(separator: "/").first.map(String.init) ?? repository
        let hasRegistry = repository.contains("/") && (firstPart.contains(".") || firstPart.contains(":"))
        if hasRegistry { return description }
        return repository.contains("/") ? "docker.io/\(description)" : "docker.io/library/\(description)"
    }
}
