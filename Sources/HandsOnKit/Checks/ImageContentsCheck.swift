/// Rules on what an image holds, read from its layers: paths that must not be in the final file system (the Go tool
/// chain in a runtime image), and a ceiling on wasted bytes.
struct ImageContentsCheck {
    let rules: ImageContentsRules

    func run(_ id: String, _ context: CheckContext) async throws -> CheckResult {
        let image = context.image(rules.image)
        guard let resolved = await context.engine.resolveImage(image) else {
            return CheckResult(id: id, passed: false, message: localized("no image \(image) to look into", ja: "中を調べるイメージ \(image) がありません"))
        }
        let measurement = try await context.engine.analyzeImage(resolved)
        var failures: [String] = []
        for path in rules.absentPaths {
            let normalized = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
            if let bytes = measurement.shallowPaths[normalized] {
                let layer = measurement.largest.first { $0.path == normalized }?.layer
                failures.append(localized("\(normalized) is in the image (\(ByteFormatting.decimal(bytes))" + (layer.map { ", from layer \($0)" } ?? "") + ")",
                                          ja: "\(normalized) がイメージに入っています (\(ByteFormatting.decimal(bytes))" + (layer.map { "、レイヤー \($0) から" } ?? "") + ")"))
            }
        }
        if let limit = rules.maxWastedBytes, measurement.wastedBytes > limit {
            let first = measurement.wasted.first.map {
                localized(": \($0.path) \(ByteFormatting.decimal($0.bytes)), added by layer \($0.addedBy), hidden by layer \($0.hiddenBy)",
                          ja: ": \($0.path) \(ByteFormatting.decimal($0.bytes))、レイヤー \($0.addedBy) で追加、レイヤー \($0.hiddenBy) で隠れています")
            } ?? ""
            failures.append(localized("\(ByteFormatting.decimal(measurement.wastedBytes)) is wasted, more than \(ByteFormatting.decimal(limit))\(first)",
                                      ja: "\(ByteFormatting.decimal(measurement.wastedBytes)) が無駄になっており、上限の \(ByteFormatting.decimal(limit)) を超えています\(first)"))
        }
        if failures.isEmpty {
            var facts: [String] = []
            if !rules.absentPaths.isEmpty { facts.append(localized("none of \(rules.absentPaths.joined(separator: ", ")) is in it", ja: "\(rules.absentPaths.joined(separator: "、")) はどれも入っていません")) }
            if let limit = rules.maxWastedBytes {
                facts.append(localized("\(ByteFormatting.decimal(measurement.wastedBytes)) wasted, at most \(ByteFormatting.decimal(limit))",
                                       ja: "無駄は \(ByteFormatting.decimal(measurement.wastedBytes)) で、上限 \(ByteFormatting.decimal(limit)) 以内"))
            }
            return CheckResult(id: id, passed: true, message: "\(image): " + facts.joined(separator: localized("; ", ja: "。")), measured: measurement.size)
        }
        return CheckResult(id: id, passed: false, message: "\(image): " + failures.joined(separator: localized("; ", ja: "。")), measured: measurement.size)
    }
}
