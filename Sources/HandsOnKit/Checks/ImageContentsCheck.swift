import HandsOnEngine
import HandsOnFormats
import HandsOnMessages

/// Rules on what an image holds, read from its layers: paths that must not be in the final file system (the Go tool
/// chain in a runtime image), and a ceiling on wasted bytes.
struct ImageContentsCheck {
    let rules: ImageContentsRules

    func run(_ id: CheckID, _ context: CheckContext) async throws -> CheckResult {
        let image = context.image(rules.image)
        guard let (_, measurement) = try await context.measured(image) else { return context.notFound(id, image) }
        var failures: [Message] = []
        for path in rules.absentPaths {
            let normalized = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
            if let bytes = measurement.shallowPaths[normalized] {
                let layer = measurement.largest.first { $0.path == normalized }?.layer
                failures.append(
                    layer.map {
                        Message(
                            .imageContentsCheck.pathInImageFromLayer,
                            ["path": normalized, "size": ByteFormatting.decimal(bytes), "layer": "\($0)"])
                    }
                        ?? Message(
                            .imageContentsCheck.pathInImage,
                            ["path": normalized, "size": ByteFormatting.decimal(bytes)]))
            }
        }
        if let limit = rules.maxWastedBytes, measurement.wastedBytes > limit {
            let first =
                measurement.wasted.first.map {
                    Message(
                        .imageContentsCheck.valueDecimalAddedLayer,
                        [
                            "value": "\($0.path)", "decimal": "\(ByteFormatting.decimal($0.bytes))",
                            "value2": "\($0.addedBy)", "value3": "\($0.hiddenBy)",
                        ])
                } ?? .literal("")
            failures.append(
                Message(
                    .imageContentsCheck.decimalWastedMoreThan,
                    [
                        "decimal": "\(ByteFormatting.decimal(measurement.wastedBytes))",
                        "decimal2": "\(ByteFormatting.decimal(limit))",
                    ],
                    parts: ["first": first]))
        }
        if failures.isEmpty {
            var facts: [Message] = []
            if !rules.absentPaths.isEmpty {
                facts.append(
                    Message(
                        .imageContentsCheck.noneOfPathsInImage,
                        parts: ["paths": Message.list(rules.absentPaths.map(Message.literal))]))
            }
            if let limit = rules.maxWastedBytes {
                facts.append(
                    Message(
                        .imageContentsCheck.decimalWastedMostDecimal,
                        [
                            "decimal": "\(ByteFormatting.decimal(measurement.wastedBytes))",
                            "decimal2": "\(ByteFormatting.decimal(limit))",
                        ]))
            }
            return CheckResult(
                id: id, passed: true,
                reason: .labelled(image, Message.list(facts, separator: .list.clauseSeparator)),
                measured: measurement.size)
        }
        return CheckResult(
            id: id, passed: false,
            reason: .labelled(image, Message.list(failures, separator: .list.clauseSeparator)),
            measured: measurement.size)
    }
}

extension CheckContext {
    /// The image as the engine names it and its measurement from its layers; nil when the engine does not have it.
    func measured(_ image: String) async throws -> (resolved: String, measurement: ImageSizeMeasurement)? {
        guard let resolved = await engine.resolveImage(image) else { return nil }
        return (resolved, try await engine.analyzeImage(resolved))
    }

    /// The failed check for an image the engine does not have.
    func notFound(_ id: CheckID, _ image: String) -> CheckResult {
        CheckResult(id: id, passed: false, reason: Message(.imageContentsCheck.imageImageLookInto, ["image": image]))
    }
}
