import Foundation

/// A file a layer added that the final file system does not show: deleted (a whiteout, an opaque directory) or
/// overwritten by a later layer.
public struct WastedFile: Sendable, Codable, Equatable {
    public let path: String
    public let bytes: Int64
    /// Layer numbers from 1 (the lowest), as `handson size` lists them.
    public let addedBy: Int
    public let hiddenBy: Int
}

/// One path of the final file system with its bytes (a directory with everything beneath it).
public struct PathSize: Sendable, Codable, Equatable {
    public let path: String
    public let bytes: Int64
    public let isDirectory: Bool
    /// The layer (from 1) that added it; for a directory, the layer that added most of its bytes.
    public let layer: Int
}

/// Layers stacked as overlayfs stacks them: each layer's files over the ones below, whiteouts deleting, opaque
/// directories hiding what lies under them. What a layer adds and a later one hides is recorded as wasted.
/// A class: it is a tree of nodes changed in place, used by one analysis at a time.
final class OverlayFileSystem {
    private final class Node {
        var children: [String: Node] = [:]
        var bytes: Int64 = 0
        var layer = 0
        var isDirectory: Bool

        init(isDirectory: Bool) { self.isDirectory = isDirectory }
    }

    private let root = Node(isDirectory: true)
    private(set) var wasted: [WastedFile] = []

    /// The layer (from 1) whose entry the final file system shows at `path`, or nil when it shows none.
    func layer(of path: String) -> Int? {
        let components = path.split(separator: "/").map(String.init)
        guard let name = components.last, let parent = node(at: components.dropLast(), creating: false),
            let entry = parent.children[name]
        else { return nil }
        return entry.layer
    }

    /// Lays layer `number` (from 1) over what is there.
    func apply(_ entries: [LayerEntry], layer number: Int) {
        for entry in entries {
            let components = entry.path.split(separator: "/").map(String.init)
            switch entry.kind {
            case .whiteout:
                guard let name = components.last, let parent = node(at: components.dropLast(), creating: false),
                    let hidden = parent.children.removeValue(forKey: name)
                else { continue }
                recordHidden(hidden, path: entry.path, by: number)
            case .opaqueDirectory:
                guard let directory = node(at: components[...], creating: true, layer: number) else { continue }
                // Only what lower layers put there is hidden; this layer's own entries may come before the marker.
                for (name, child) in directory.children where child.layer < number {
                    directory.children.removeValue(forKey: name)
                    recordHidden(child, path: join(entry.path, name), by: number)
                }
            case .directory:
                _ = node(at: components[...], creating: true, layer: number)
            case .file, .symbolicLink, .hardLink, .other:
                guard let name = components.last,
                    let parent = node(at: components.dropLast(), creating: true, layer: number)
                else { continue }
                if let existing = parent.children[name] { recordHidden(existing, path: entry.path, by: number) }
                let file = Node(isDirectory: false)
                file.bytes = entry.bytes
                file.layer = number
                parent.children[name] = file
            }
        }
    }

    /// Every path's size once all layers are applied, directories with their totals.
    func sizes() -> [PathSize] {
        var result: [PathSize] = []
        func visit(_ node: Node, path: String) -> (bytes: Int64, byLayer: [Int: Int64]) {
            guard node.isDirectory else {
                result.append(PathSize(path: "/" + path, bytes: node.bytes, isDirectory: false, layer: node.layer))
                return (node.bytes, [node.layer: node.bytes])
            }
            var total: Int64 = 0
            var byLayer: [Int: Int64] = [:]
            for (name, child) in node.children {
                let (bytes, layers) = visit(child, path: path.isEmpty ? name : "\(path)/\(name)")
                total += bytes
                byLayer.merge(layers, uniquingKeysWith: +)
            }
            if !path.isEmpty {
                let main =
                    byLayer.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? node.layer
                result.append(PathSize(path: "/" + path, bytes: total, isDirectory: true, layer: main))
            }
            return (total, byLayer)
        }
        _ = visit(root, path: "")
        return result
    }

    // MARK: - Tree

    private func node(at components: ArraySlice<String>, creating: Bool, layer: Int = 0) -> Node? {
        var current = root
        var walked: [String] = []
        for name in components {
            walked.append(name)
            if let next = current.children[name] {
                if !next.isDirectory {
                    guard creating else { return nil }
                    // A file replaced by a directory: the file is hidden.
                    let directory = Node(isDirectory: true)
                    directory.layer = layer
                    current.children[name] = directory
                    recordHidden(next, path: walked.joined(separator: "/"), by: layer)
                    current = directory
                } else {
                    current = next
                }
            } else {
                guard creating else { return nil }
                let directory = Node(isDirectory: true)
                directory.layer = layer
                current.children[name] = directory
                current = directory
            }
        }
        return current
    }

    private func join(_ folder: String, _ name: String) -> String { folder.isEmpty ? name : "\(folder)/\(name)" }

    /// A hidden node's files, each recorded with its size and the layers that added and hid it.
    private func recordHidden(_ node: Node, path: String, by layer: Int) {
        if node.isDirectory {
            for (name, child) in node.children { recordHidden(child, path: join(path, name), by: layer) }
        } else if node.bytes > 0 {
            wasted.append(WastedFile(path: "/" + path, bytes: node.bytes, addedBy: node.layer, hiddenBy: layer))
        }
    }
}
