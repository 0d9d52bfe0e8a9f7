import HandsOnEngine
import HandsOnFormats

/// What the course's checks read from a Dockerfile.
public struct DockerfileFacts: Sendable, Equatable {
    public let stages: [DockerfileStage]

    public init(_ stages: [DockerfileStage]) { self.stages = stages }

    public init(text: String) throws { self.init(try DockerfileReader.read(text)) }

    /// The facts of the image `docker build --target NAME` makes: the stages up to and including that one.
    public func forTarget(_ name: String) -> DockerfileFacts? {
        guard let index = stages.firstIndex(where: { $0.name?.lowercased() == name.lowercased() }) else { return nil }
        return DockerfileFacts(Array(stages.prefix(through: index)))
    }

    /// Whether `go mod download` runs before the source is copied in, so the download layer stays cached while
    /// only source changes; nil when no stage downloads modules.
    public var downloadsDependenciesBeforeSource: Bool? {
        for stage in chain(of: finalStage).reversed() + stages.filter({ !chain(of: finalStage).contains($0) }) {
            guard
                let download = stage.instructions.firstIndex(where: {
                    $0.keyword == "RUN" && $0.arguments.contains("go mod download")
                })
            else { continue }
            let copiesSource: (DockerfileInstruction) -> Bool = { instruction in
                guard instruction.keyword == "COPY" || instruction.keyword == "ADD", instruction.flags["from"] == nil
                else { return false }
                let sources = instruction.arguments.split(separator: " ").dropLast()
                return sources.contains { $0 == "." || $0 == "./" }
            }
            // The source may have been copied in this stage before the download, or in a stage it builds on.
            let earlierStages = chain(of: stage).dropFirst()
            if earlierStages.contains(where: { $0.instructions.contains(where: copiesSource) }) { return false }
            return !stage.instructions[..<download].contains(where: copiesSource)
        }
        return nil
    }

    /// The user the final stage runs as (the last USER), nil for the base image's default.
    public var finalUser: String? {
        chain(of: finalStage).lazy.compactMap { $0.instructions.last { $0.keyword == "USER" }?.arguments.trimmedSpaces }
            .first
    }

    public var stageCount: Int { stages.count }
    public var finalStage: DockerfileStage { stages[stages.count - 1] }

    /// The final stage's base image, following `FROM earlier-stage` back to an image.
    public var finalBase: String { resolvedBase(of: finalStage) }

    public func resolvedBase(of stage: DockerfileStage) -> String {
        var current = stage
        var seen: Set<Int> = []
        while let earlier = self.stage(named: current.base, before: current.index), seen.insert(earlier.index).inserted
        {
            current = earlier
        }
        return current.base
    }

    /// Base images (not earlier stages, not `scratch`) with no tag, or tagged `latest`, and no digest.
    public var unpinnedBases: [String] {
        stages.filter { stage(named: $0.base, before: $0.index) == nil }.map(\.base).filter { base in
            guard base != "scratch", !base.contains("@") else { return false }
            return ImageReference(base).tag == "latest"
        }
    }

    /// The final stage's CMD and ENTRYPOINT (the last of each), nil where absent.
    public var command: DockerfileInstruction? { finalStage.instructions.last { $0.keyword == "CMD" } }
    public var entrypoint: DockerfileInstruction? { finalStage.instructions.last { $0.keyword == "ENTRYPOINT" } }

    /// For a `scratch` final stage: whether the stages it copies from build with `CGO_ENABLED=0`
    /// (in ENV, ARG or the RUN line). nil when the final stage is not scratch.
    public var cgoDisabledForScratch: Bool? {
        guard finalBase == "scratch" else { return nil }
        let sources = finalStage.instructions.compactMap { $0.flags["from"] }.compactMap { source in
            stage(named: source, before: finalStage.index)
                ?? Int(source).flatMap { $0 < stages.count ? stages[$0] : nil }
        }
        let builders = sources.isEmpty ? Array(stages.dropLast()) : sources
        guard !builders.isEmpty else { return false }
        return builders.contains { builder in
            chain(of: builder).contains { stage in
                stage.instructions.contains {
                    ["ENV", "ARG", "RUN"].contains($0.keyword) && $0.arguments.contains("CGO_ENABLED=0")
                }
            }
        }
    }

    /// A stage and the earlier stages it is built FROM.
    private func chain(of stage: DockerfileStage) -> [DockerfileStage] {
        var result = [stage]
        var current = stage
        while let earlier = self.stage(named: current.base, before: current.index), !result.contains(earlier) {
            result.append(earlier)
            current = earlier
        }
        return result
    }

    private func stage(named name: String, before index: Int) -> DockerfileStage? {
        stages.prefix(index).last { $0.name?.lowercased() == name.lowercased() }
    }
}
