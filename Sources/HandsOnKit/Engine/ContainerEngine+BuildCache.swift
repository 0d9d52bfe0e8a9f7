import Foundation

/// BuildKit's build cache: the records a grade's builds add are found by comparing the cache before and after, and
/// removed by id, so the cache a user had before (and its usage) stays as it was.
extension ContainerEngine {
    /// The ids of BuildKit's cache records now; nil when this engine's builds keep no BuildKit cache (the classic
    /// builder and Podman keep theirs as untagged images, removed with the build's step images).
    public func buildCacheIDs(builder: ImageBuilder?) async -> Set<String>? {
        guard kind == .docker, builder == .buildkit else { return nil }
        if let ids = await viaAPI({ try await $0.buildCacheIDs() }) { return ids }
        guard let listing = await buildx(["du", "--verbose"], timeout: 60), listing.succeeded else {
            return nil
        }
        return Self.buildCacheIDs(inVerboseListing: listing.stdout)
    }

    /// `ID:  3lvi1n2hcsn0i407tfjp26v5g` lines of `docker buildx du --verbose`.
    static func buildCacheIDs(inVerboseListing text: String) -> Set<String> {
        var ids = Set<String>()
        for line in TextLines.split(text) where line.hasPrefix("ID:") {
            let id = line.dropFirst(3).trimmingCharacters(in: .whitespaces)
            if !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber }) { ids.insert(id) }
        }
        return ids
    }

    /// Removes the cache records that were not there in `before`; false when the records could not be listed or a
    /// removal failed. The prune filter takes one value, matched as a regular expression against the id, so the new
    /// ids go in one anchored alternation per call.
    @discardableResult
    public func removeBuildCache(addedSince before: Set<String>, builder: ImageBuilder?) async -> Bool {
        guard let now = await buildCacheIDs(builder: builder) else { return builder != .buildkit || kind != .docker }
        let added = now.subtracting(before).sorted()
        var removedAll = true
        for start in stride(from: 0, to: added.count, by: 100) {
            let pattern = "^(\(added[start..<min(start + 100, added.count)].joined(separator: "|")))$"
            if await viaAPI({ try await $0.pruneBuildCache(idPattern: pattern) }) != nil { continue }
            let pruned = await buildx(["prune", "--all", "--force", "--filter", "id=\(pattern)"], timeout: 120)
            if pruned?.succeeded != true { removedAll = false }
        }
        return removedAll
    }

    /// `docker buildx ARGUMENTS` as clean-up work (it goes on after Ctrl-C), through the plugin run on its own where
    /// builds are (`standaloneBuildx`).
    private func buildx(_ arguments: [String], timeout: Double) async -> ProcessResult? {
        guard let plugin = standaloneBuildx else { return await cleanUp(["buildx"] + arguments, timeout: timeout) }
        // The builder the builds use (`build` names it where the Engine API is spoken).
        let builder = await engineAPI() != nil ? ["--builder", "default"] : []
        return await cleanUp(arguments + builder, executable: plugin, timeout: timeout)
    }
}
