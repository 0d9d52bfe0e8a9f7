import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnMessages

/// One instruction of a build as the builder reported it, and whether its result came from the cache.
public struct BuildLogStep: Sendable, Equatable, Codable {
    public let instruction: String
    public let cached: Bool
    /// Where the builder placed it, its stage then its step: BuildKit's `builder 5/7`, the classic builder's
    /// `builder 6/13` (the stage named by its `AS`, else `stage-N`), Podman's `1/2 6/8`; nil when the log did not say.
    public var layer: String? = nil

    /// "Dockerfile [builder 5/7] `RUN go mod download`": the file, the layer and the instruction, for a finding.
    public func named(in dockerfile: String) -> Message {
        guard let layer else {
            return Message(.rebuild.stepNoLayer, ["file": dockerfile, "instruction": instruction])
        }
        return Message(.rebuild.step, ["file": dockerfile, "layer": layer, "instruction": instruction])
    }

    /// The stage part of `layer` (`builder`, `stage-1`, Podman's `2/2`).
    public var stage: String? {
        guard let layer, let space = layer.lastIndex(of: " ") else { return nil }
        return String(layer[..<space])
    }
}

/// Reads which instructions a build took from its cache, from what each builder prints (the build's stdout and stderr):
/// BuildKit's plain progress (`#11 [builder 5/7] RUN go mod download` then `#11 CACHED`), the classic builder's
/// `Step 6/13 : RUN ...` then ` ---> Using cache`, and Podman's `[1/2] STEP 6/8: RUN ...` then `--> Using cache <id>`.
/// `FROM` lines are left out: a base image is never built.
public enum BuildLog {
    public static func steps(_ output: String) -> [BuildLogStep] {
        var buildKit: [(number: String, instruction: String, layer: String)] = []
        var buildKitCached = Set<String>()
        var sequential: [BuildLogStep] = []
        var stageIndex = -1
        var stageName = "stage-0"
        for rawLine in TextLines.split(output) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#"), let space = line.firstIndex(of: " ") {
                let number = String(line[line.index(after: line.startIndex)..<space])
                guard !number.isEmpty, number.allSatisfy(\.isNumber) else { continue }
                let rest = line[line.index(after: space)...]
                if rest == "CACHED" {
                    buildKitCached.insert(number)
                } else if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                    let label = rest[rest.index(after: rest.startIndex)..<close]
                    // `[internal] load build context` and the like are not the Dockerfile's.
                    guard label.contains("/"), !buildKit.contains(where: { $0.number == number }) else { continue }
                    let instruction = rest[rest.index(after: close)...].trimmingCharacters(in: .whitespaces)
                    buildKit.append((number, instruction, String(label)))
                }
            } else if let (instruction, stage, counter) = sequentialInstruction(line) {
                // The classic builder names no stage: each FROM begins one, called by its `AS` name or its number as
                // BuildKit calls it (`stage-1`). Podman's own `[1/2]` is kept.
                if instruction.uppercased().hasPrefix("FROM ") {
                    let words = instruction.split(separator: " ")
                    stageIndex += 1
                    stageName =
                        words.count >= 4 && words[words.count - 2].uppercased() == "AS"
                        ? String(words[words.count - 1]) : "stage-\(stageIndex)"
                }
                let layer = "\(stage ?? stageName) \(counter)"
                sequential.append(BuildLogStep(instruction: instruction, cached: false, layer: layer))
            } else if line.hasPrefix("---> Using cache") || line.hasPrefix("--> Using cache"),
                let last = sequential.last
            {
                sequential[sequential.count - 1] = BuildLogStep(
                    instruction: last.instruction, cached: true, layer: last.layer)
            }
        }
        let steps =
            buildKit.isEmpty
            ? sequential
            : buildKit.map {
                BuildLogStep(instruction: $0.instruction, cached: buildKitCached.contains($0.number), layer: $0.layer)
            }
        return steps.filter { !$0.instruction.uppercased().hasPrefix("FROM ") }
    }

    /// `Step 6/13 : RUN go mod download` (classic) or `[1/2] STEP 6/8: RUN go mod download` / `STEP 6/8: ...` (Podman).
    private static func sequentialInstruction(_ line: String) -> (
        instruction: String, stage: String?, counter: String
    )? {
        var rest = Substring(line)
        var stage: String?
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            stage = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...].drop { $0 == " " }
        }
        let upper = rest.prefix(5)
        guard upper == "Step " || upper == "STEP " else { return nil }
        rest = rest.dropFirst(5)
        let counter = rest.prefix { $0.isNumber || $0 == "/" }
        guard counter.contains("/") else { return nil }
        rest = rest.dropFirst(counter.count).drop { $0 == " " }
        guard rest.first == ":" else { return nil }
        return (rest.dropFirst().trimmingCharacters(in: .whitespaces), stage, String(counter))
    }
}
