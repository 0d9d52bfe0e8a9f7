/// Rules on what an image holds, read from its layers: paths that must not be in the final file system (the Go tool
/// chain in a runtime image), and a ceiling on wasted bytes.
struct ImageContentsCheck {
    let rules: ImageContentsRules

    func run(_ id: String, _ context: CheckContext) async throws -> CheckResult {
        let image = context.image(rules.image)
        guard let resolved = await context.engine.resolveImage(image) else {
            return CheckResult(id: id, passed: false, message: "no image \(image) to look into")
        }
        let measurement = try await context.engine.analyzeImage(resolved)
        var failures: [String] = []
        for path in rules.absentPaths {
            let normalized = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
            if let bytes = measurement.shallowPaths[normalized] {
                let layer = measurement.largest.first { $0.path == normalized }?.layer
                failures.append("\(normalized) is in the image (\(ByteFormatting.decimal(bytes))"
                                + (layer.map { ", from layer \($0)" } ?? "") + ")")
            }
        }
        if let limit = rules.maxWastedBytes, measurement.wastedBytes > limit {
            let first = measurement.wasted.first.map { ": \($0.path) \(ByteFormatting.decimal($0.bytes)), added by layer \($0.addedBy), hidden by layer \($0.hiddenBy)" } ?? ""
            failures.append("\(ByteFormatting.decimal(measurement.wastedBytes)) is wasted, more than \(ByteFormatting.decimal(limit))\(first)")
        }
        if failures.isEmpty {
            var facts: [String] = []
            if !rules.absentPaths.isEmpty { facts.append("none of \(rules.absentPaths.joined(separator: ", ")) is in it") }
            if let limit = rules.maxWastedBytes {
                facts.append("\(ByteFormatting.decimal(measurement.wastedBytes)) wasted, at most \(ByteFormatting.decimal(limit))")
            }
            return CheckResult(id: id, passed: true, message: "\(image): " + facts.joined(separator: "; "), measured: measurement.size)
        }
        return CheckResult(id: id, passed: false, message: "\(image): " + failures.joined(separator: "; "), measured: measurement.size)
    }
}
