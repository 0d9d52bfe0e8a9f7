import Foundation
import HandsOnFormats
import HandsOnProcesses

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
    /// - Parameter untilGone: after a build cut short, list again and prune what is left (for two seconds at most).
    public func removeBuildCache(addedSince before: Set<String>, builder: ImageBuilder?, untilGone: Bool)
        async -> Bool
    {
        guard var now = await buildCacheIDs(builder: builder) else { return builder != .buildkit || kind != .docker }
        // A build cut short (by its disk limit, its timeout) lets go of its last step's record a moment after its
        // client has ended, and a prune skips (or waits for) a record still held: what is left is pruned again.
        for attempt in 0..<(untilGone ? 5 : 1) {
            let added = now.subtracting(before).sorted()
            if added.isEmpty { return true }
            if attempt > 0 { try? await Task.sleep(for: .seconds(1)) }
            var removedAll = true
            for start in stride(from: 0, to: added.count, by: 100) {
                let pattern = "^(\(added[start..<min(start + 100, added.count)].joined(separator: "|")))$"
                // After a build cut short, the engine may hold its records a while: each try is short.
                if await viaAPI({ try await $0.pruneBuildCache(idPattern: pattern, timeout: untilGone ? 15 : 120) })
                    != nil
                {
                    continue
                }
                if untilGone, await engineAPI() != nil {
                    removedAll = false
                    continue
                }
                let pruned = await buildx(["prune", "--all", "--force", "--filter", "id=\(pattern)"], timeout: 120)
                if pruned?.succeeded != true { removedAll = false }
            }
            guard untilGone else { return removedAll }
            guard let listed = await buildCacheIDs(builder: builder) else { return false }
            now = listed
        }
        return now.subtracting(before).isEmpty
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
