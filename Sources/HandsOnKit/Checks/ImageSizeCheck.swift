/// Size bounds on one image: at most / at least, smaller than another, at most a fraction of another.
struct ImageSizeCheck {
    let bounds: ImageSizeBounds

    func run(_ id: String, _ context: CheckContext) async throws -> CheckResult {
        let image = context.image(bounds.image)
        guard let size = try await ImageMeasurement.measure(image, context.engine) else {
            return CheckResult(id: id, passed: false, message: localized("no image \(image) to measure", ja: "測るイメージ \(image) がありません"))
        }
        let compared: Int64
        switch bounds.basis {
        case .exact: compared = size.exactBytes
        case .displayed:
            guard let nominal = DisplayedSize.nominalBytes(size.displayed) else {
                return CheckResult(id: id, passed: false, message: localized("cannot read the listed size '\(size.displayed)'", ja: "表示サイズ '\(size.displayed)' を読み取れません"), measured: size.displayed)
            }
            compared = nominal
        }
        var failures: [String] = []
        var facts: [String] = []
        if let limit = bounds.atMostBytes {
            if compared > limit { failures.append(localized("over \(ByteFormatting.decimal(limit))", ja: "\(ByteFormatting.decimal(limit)) を超えています")) }
            else { facts.append(localized("at most \(ByteFormatting.decimal(limit))", ja: "\(ByteFormatting.decimal(limit)) 以下")) }
        }
        if let floor = bounds.atLeastBytes {
            if compared < floor { failures.append(localized("under \(ByteFormatting.decimal(floor))", ja: "\(ByteFormatting.decimal(floor)) 未満です")) }
            else { facts.append(localized("at least \(ByteFormatting.decimal(floor))", ja: "\(ByteFormatting.decimal(floor)) 以上")) }
        }
        if let other = bounds.smallerThan.map(context.image) {
            guard let otherSize = try await ImageMeasurement.measure(other, context.engine) else {
                return CheckResult(id: id, passed: false, message: localized("no image \(other) to compare \(image) with", ja: "\(image) と比べるイメージ \(other) がありません"),
                                   measured: size.displayed)
            }
            if size.exactBytes < otherSize.exactBytes { facts.append(localized("smaller than \(other) (\(otherSize.displayed))", ja: "\(other) (\(otherSize.displayed)) より小さい")) }
            else { failures.append(localized("not smaller than \(other) (\(otherSize.displayed))", ja: "\(other) (\(otherSize.displayed)) より小さくありません")) }
        }
        if let other = bounds.atMostFractionOf.map(context.image), let fraction = bounds.fraction {
            guard let otherSize = try await ImageMeasurement.measure(other, context.engine) else {
                return CheckResult(id: id, passed: false, message: localized("no image \(other) to compare \(image) with", ja: "\(image) と比べるイメージ \(other) がありません"),
                                   measured: size.displayed)
            }
            let ratio = Double(size.exactBytes) / Double(max(otherSize.exactBytes, 1))
            let percent = String(format: "%.1f%%", ratio * 100)
            let limit = String(format: "%g%%", fraction * 100)
            if ratio <= fraction { facts.append(localized("\(percent) of \(other), within \(limit)", ja: "\(other) の \(percent) で、\(limit) 以内")) }
            else { failures.append(localized("\(percent) of \(other), more than \(limit)", ja: "\(other) の \(percent) で、\(limit) を超えています")) }
        }
        let passed = failures.isEmpty
        let detail = (passed ? facts : failures).joined(separator: localized("; ", ja: "、"))
        return CheckResult(id: id, passed: passed, message: localized("\(image) is \(size.displayed): \(detail)", ja: "\(image) は \(size.displayed): \(detail)") + "\(size.engineNoteSuffix)\(passed ? "" : size.explanationSuffix)",
                           measured: size.displayed)
    }
}
