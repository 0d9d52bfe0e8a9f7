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
    /// Counts the directories taken out of the tree (deleted, hidden, replaced): a directory remembered from an
    /// earlier entry is still in the tree only while this has not changed.
    private var removals = 0
    /// The highest layer number applied.
    private var highestLayer = 0

    /// The layer (from 1) whose entry the final file system shows at `path`, or nil when it shows none.
    func layer(of path: String) -> Int? {
        let (folder, name) = Self.splitLast(path[...])
        guard !name.isEmpty, let parent = directory(at: folder, creating: false),
            let entry = parent.children[String(name)]
        else { return nil }
        return entry.layer
    }

    /// Lays layer `number` (from 1) over what is there.
    func apply(_ entries: [LayerEntry], layer number: Int) {
        highestLayer = max(highestLayer, number)
        // A layer lists a folder's entries together: the folder found for one entry serves the next ones in it. A
        // folder's entries resume after each of its subfolders': the folders found are kept by path too. Both hold
        // while no directory has been taken out of the tree.
        var lastFolder: (path: Substring, node: Node, removals: Int)?
        var found: [Substring: Node] = [:]
        var foundAtRemovals = removals
        func folder(_ path: Substring) -> Node? {
            if let last = lastFolder, last.removals == removals, last.path == path { return last.node }
            if foundAtRemovals != removals {
                found.removeAll(keepingCapacity: true)
                foundAtRemovals = removals
            }
            guard let node = found[path] ?? directory(at: path, creating: true, layer: number) else { return nil }
            found[path] = node
            lastFolder = (path, node, removals)
            return node
        }
        for entry in entries {
            let path = entry.path[...]
            switch entry.kind {
            case .whiteout:
                let (parentPath, name) = Self.splitLast(path)
                guard !name.isEmpty, let parent = directory(at: parentPath, creating: false),
                    let hidden = parent.children.removeValue(forKey: String(name))
                else { continue }
                recordHidden(hidden, path: entry.path, by: number)
            case .opaqueDirectory:
                guard let directory = directory(at: path, creating: true, layer: number) else { continue }
                // Only what lower layers put there is hidden; this layer's own entries may come before the marker.
                for (name, child) in directory.children where child.layer < number {
                    directory.children.removeValue(forKey: name)
                    recordHidden(child, path: join(entry.path, name), by: number)
                }
            case .directory:
                _ = directory(at: path, creating: true, layer: number)
            case .file, .symbolicLink, .hardLink, .other:
                let (parentPath, name) = Self.splitLast(path)
                guard !name.isEmpty, let parent = folder(parentPath) else { continue }
                let file = Node(isDirectory: false)
                file.bytes = entry.bytes
                file.layer = number
                if let existing = parent.children.updateValue(file, forKey: String(name)) {
                    recordHidden(existing, path: entry.path, by: number)
                }
            }
        }
    }

    /// Every path's size once all layers are applied, directories with their totals: the plain reading the tests check
    /// the stack and `summary` against (a measurement reads only what it needs, with `summary`).
    func sizes() -> [PathSize] {
        var result: [PathSize] = []
        let layerCount = highestLayer + 1
        /// A directory's bytes by the layer that added them (-1: none of its files is that layer's), summed into
        /// `byLayer`; returns its total.
        func visit(_ directory: Node, path: String, byLayer: inout [Int64]) -> Int64 {
            var total: Int64 = 0
            var own = [Int64](repeating: -1, count: layerCount)
            for (name, child) in directory.children {
                let childPath = "\(path)/\(name)"
                if child.isDirectory {
                    total += visit(child, path: childPath, byLayer: &own)
                } else {
                    result.append(PathSize(path: childPath, bytes: child.bytes, isDirectory: false, layer: child.layer))
                    total += child.bytes
                    own[child.layer] = max(own[child.layer], 0) + child.bytes
                }
            }
            let main = Self.mainLayer(of: own, madeBy: directory.layer, addingInto: &byLayer)
            if !path.isEmpty {
                result.append(PathSize(path: path, bytes: total, isDirectory: true, layer: main))
            }
            return total
        }
        var rootLayers = [Int64](repeating: -1, count: layerCount)
        _ = visit(root, path: "", byLayer: &rootLayers)
        return result
    }

    /// What a measurement reads off the final file system, in one walk: the `limit` largest paths that say where the
    /// bytes are (at least `atLeast` bytes each, and no directory that one child of it all but fills: the child says
    /// it better), largest first, of equal sizes by path; and every path up to `depth` levels deep with its bytes (a
    /// directory's include everything beneath it). Only those paths are spelled out: most of a tree's nodes lie
    /// deeper and are never among the largest, and `sizes()` spelled every one.
    func summary(largest limit: Int, atLeast: Int64, shallowDepth depth: Int) -> (
        largest: [PathSize], shallow: [String: Int64]
    ) {
        var shallow: [String: Int64] = [:]
        var top: [PathSize] = []
        let layerCount = highestLayer + 1
        /// The names from the root down to the directory being visited.
        var names: [String] = []
        func spelled(_ name: String) -> String { "/" + (names + [name]).joined(separator: "/") }
        func precedes(_ a: PathSize, _ b: PathSize) -> Bool {
            a.bytes > b.bytes || (a.bytes == b.bytes && a.path < b.path)
        }
        func offer(_ name: String, bytes: Int64, isDirectory: Bool, layer: Int) {
            guard limit > 0, bytes >= atLeast else { return }
            if top.count == limit, let worst = top.last, bytes < worst.bytes { return }
            let entry = PathSize(path: spelled(name), bytes: bytes, isDirectory: isDirectory, layer: layer)
            if top.count == limit, let worst = top.last, !precedes(entry, worst) { return }
            top.insert(entry, at: top.firstIndex { precedes(entry, $0) } ?? top.count)
            if top.count > limit { top.removeLast() }
        }
        /// Visits `directory` (named `names`); adds its bytes by the layer that added them into `byLayer` (-1: none
        /// of that layer's) and returns its total, the layer that added most of it and its largest child's bytes.
        func visit(_ directory: Node, byLayer: inout [Int64]) -> (total: Int64, layer: Int, largestChild: Int64) {
            var total: Int64 = 0
            var largestChild: Int64 = 0
            var own = [Int64](repeating: -1, count: layerCount)
            let childrenAreShallow = names.count < depth
            for (name, child) in directory.children {
                let bytes: Int64
                if child.isDirectory {
                    names.append(name)
                    let (childTotal, childLayer, itsLargestChild) = visit(child, byLayer: &own)
                    names.removeLast()
                    bytes = childTotal
                    // Telling only when no child of it all but fills it (that child is then offered itself).
                    if Double(itsLargestChild) < 0.95 * Double(childTotal) {
                        offer(name, bytes: childTotal, isDirectory: true, layer: childLayer)
                    }
                } else {
                    bytes = child.bytes
                    own[child.layer] = max(own[child.layer], 0) + child.bytes
                    offer(name, bytes: bytes, isDirectory: false, layer: child.layer)
                }
                if childrenAreShallow { shallow[spelled(name)] = bytes }
                total += bytes
                largestChild = max(largestChild, bytes)
            }
            return (total, Self.mainLayer(of: own, madeBy: directory.layer, addingInto: &byLayer), largestChild)
        }
        var rootLayers = [Int64](repeating: -1, count: layerCount)
        _ = visit(root, byLayer: &rootLayers)
        return (top, shallow)
    }

    /// The layer that added most of a directory's bytes (`own`: its bytes by layer, -1 where none of its files is that
    /// layer's); of equals the lowest; with no files, the one that made it (`madeBy`). Adds `own` into its parent's
    /// `byLayer`.
    private static func mainLayer(of own: [Int64], madeBy: Int, addingInto byLayer: inout [Int64]) -> Int {
        var main = madeBy
        var most: Int64 = -1
        for (layer, bytes) in own.enumerated() where bytes > most {
            (main, most) = (layer, bytes)
        }
        for (layer, bytes) in own.enumerated() where bytes >= 0 { byLayer[layer] = max(byLayer[layer], 0) + bytes }
        return main
    }

    // MARK: - Tree

    /// The directory at `path` (`usr/local`, "" for the root), made where `creating` (by layer `layer`) and missing.
    private func directory(at path: Substring, creating: Bool, layer: Int = 0) -> Node? {
        var current = root
        var start = path.startIndex
        let utf8 = path.utf8
        while start < path.endIndex {
            let end = utf8[start...].firstIndex(of: UInt8(ascii: "/")) ?? path.endIndex
            defer { start = end < path.endIndex ? utf8.index(after: end) : end }
            guard start < end else { continue }
            let name = String(path[start..<end])
            if let next = current.children[name] {
                if !next.isDirectory {
                    guard creating else { return nil }
                    // A file replaced by a directory: the file is hidden.
                    let directory = Node(isDirectory: true)
                    directory.layer = layer
                    current.children[name] = directory
                    recordHidden(next, path: String(path[..<end]), by: layer)
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

    /// `usr/local` and `go` of `usr/local/go`; "" and the path itself when it has no `/`.
    static func splitLast(_ path: Substring) -> (folder: Substring, name: Substring) {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else {
            return (path[path.startIndex..<path.startIndex], path)
        }
        return (path[..<slash], path[path.utf8.index(after: slash)...])
    }

    private func join(_ folder: String, _ name: String) -> String { folder.isEmpty ? name : "\(folder)/\(name)" }

    /// A node taken out of the tree: its files, each recorded with its size and the layers that added and hid it.
    private func recordHidden(_ node: Node, path: String, by layer: Int) {
        if node.isDirectory {
            removals += 1
            for (name, child) in node.children { recordHidden(child, path: join(path, name), by: layer) }
        } else if node.bytes > 0 {
            wasted.append(WastedFile(path: "/" + path, bytes: node.bytes, addedBy: node.layer, hiddenBy: layer))
        }
    }
}
