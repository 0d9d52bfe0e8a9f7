/// Size bounds on one image: at most / at least, smaller than another, at most a fraction of another.
struct ImageSizeCheck {
    let bounds: ImageSizeBounds

    func run(_ id: String, _ context: CheckContext) async throws -> CheckResult {
        let image = context.image(bounds.image)
        guard let size = try await ImageMeasurement.measure(image, context.engine) else {
            return CheckResult(id: id, passed: false, message: "no image \(image) to measure")
        }
        let compared: Int64
        switch bounds.basis {
        case .exact: compared = size.exactBytes
        case .displayed:
            guard let nominal = DisplayedSize.nominalBytes(size.displayed) else {
                return CheckResult(id: id, passed: false, message: "cannot read the listed size '\(size.displayed)'", measured: size.displayed)
            }
            compared = nominal
        }
        var failures: [String] = []
        var facts: [String] = []
        if let limit = bounds.atMostBytes {
            if compared > limit { failures.append("over \(ByteFormatting.decimal(limit))") } else { facts.append("at most \(ByteFormatting.decimal(limit))") }
        }
        if let floor = bounds.atLeastBytes {
            if compared < floor { failures.append("under \(ByteFormatting.decimal(floor))") } else { facts.append("at least \(ByteFormatting.decimal(floor))") }
        }
        if let other = bounds.smallerThan.map(context.image) {
            guard let otherSize = try await ImageMeasurement.measure(other, context.engine) else {
                return CheckResult(id: id, passed: false, message: "no image \(other) to compare \(image) with", measured: size.displayed)
            }
            if size.exactBytes < otherSize.exactBytes { facts.append("smaller than \(other) (\(otherSize.displayed))") }
            else { failures.append("not smaller than \(other) (\(otherSize.displayed))") }
        }
        if let other = bounds.atMostFractionOf.map(context.image), let fraction = bounds.fraction {
            guard let otherSize = try await ImageMeasurement.measure(other, context.engine) else {
                return CheckResult(id: id, passed: false, message: "no image \(other) to compare \(image) with", measured: size.displayed)
            }
            let ratio = Double(size.exactBytes) / Double(max(otherSize.exactBytes, 1))
            let percent = String(format: "%.1f%%", ratio * 100)
            let limit = String(format: "%g%%", fraction * 100)
            if ratio <= fraction { facts.append("\(percent) of \(other), within \(limit)") }
            else { failures.append("\(percent) of \(other), more than \(limit)") }
        }
        let passed = failures.isEmpty
        let detail = (passed ? facts : failures).joined(separator: "; ")
        return CheckResult(id: id, passed: passed, message: "\(image) is \(size.displayed): \(detail)\(size.engineNoteSuffix)\(passed ? "" : size.explanationSuffix)",
                           measured: size.displayed)
    }
}
