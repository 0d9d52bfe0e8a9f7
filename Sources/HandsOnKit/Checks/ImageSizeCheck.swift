import HandsOnEngine
import HandsOnFormats
import HandsOnMessages

/// Size bounds on one image: at most / at least, smaller than another, at most a fraction of another.
struct ImageSizeCheck {
    let bounds: ImageSizeBounds

    func run(_ id: CheckID, _ context: CheckContext) async throws -> CheckResult {
        let image = context.image(bounds.image)
        guard let size = try await ImageMeasurement.measure(image, context.engine) else {
            return CheckResult(
                id: id, passed: false, reason: Message(.checkRunner.imageImageMeasure, ["image": "\(image)"]))
        }
        let compared: Int64
        switch bounds.basis {
        case .exact: compared = size.exactBytes
        case .displayed:
            guard let nominal = DisplayedSize.nominalBytes(size.displayed) else {
                return CheckResult(
                    id: id, passed: false,
                    reason: Message(.imageSizeCheck.cannotReadListedSize, ["size": "\(size.displayed)"]),
                    measured: size.displayed)
            }
            compared = nominal
        }
        var failures: [Message] = []
        var facts: [Message] = []
        if let limit = bounds.atMostBytes {
            if compared > limit {
                failures.append(Message(.imageSizeCheck.overDecimal, ["decimal": "\(ByteFormatting.decimal(limit))"]))
            } else {
                facts.append(Message(.imageSizeCheck.mostDecimal, ["decimal": "\(ByteFormatting.decimal(limit))"]))
            }
        }
        if let floor = bounds.atLeastBytes {
            if compared < floor {
                failures.append(Message(.imageSizeCheck.underDecimal, ["decimal": "\(ByteFormatting.decimal(floor))"]))
            } else {
                facts.append(Message(.imageSizeCheck.leastDecimal, ["decimal": "\(ByteFormatting.decimal(floor))"]))
            }
        }
        if let other = bounds.smallerThan.map(context.image) {
            guard let otherSize = try await ImageMeasurement.measure(other, context.engine) else {
                return CheckResult(
                    id: id, passed: false,
                    reason: Message(
                        .imageSizeCheck.imageOtherCompareImage, ["other": "\(other)", "image": "\(image)"]),
                    measured: size.displayed)
            }
            if size.exactBytes < otherSize.exactBytes {
                facts.append(
                    Message(
                        .imageSizeCheck.smallerThanOtherOthersize,
                        ["other": "\(other)", "otherSize": "\(otherSize.displayed)"]))
            } else {
                failures.append(
                    Message(
                        .imageSizeCheck.smallerThanOtherOthersize2,
                        ["other": "\(other)", "otherSize": "\(otherSize.displayed)"]))
            }
        }
        if let other = bounds.atMostFractionOf.map(context.image), let fraction = bounds.fraction {
            guard let otherSize = try await ImageMeasurement.measure(other, context.engine) else {
                return CheckResult(
                    id: id, passed: false,
                    reason: Message(
                        .imageSizeCheck.imageOtherCompareImage, ["other": "\(other)", "image": "\(image)"]),
                    measured: size.displayed)
            }
            let ratio = Double(size.exactBytes) / Double(max(otherSize.exactBytes, 1))
            let percent = String(format: "%.1f%%", ratio * 100)
            let limit = String(format: "%g%%", fraction * 100)
            if ratio <= fraction {
                facts.append(
                    Message(
                        .imageSizeCheck.percentOtherWithinLimit,
                        ["percent": "\(percent)", "other": "\(other)", "limit": "\(limit)"]))
            } else {
                failures.append(
                    Message(
                        .imageSizeCheck.percentOtherMoreThan,
                        ["percent": "\(percent)", "other": "\(other)", "limit": "\(limit)"]))
            }
        }
        let passed = failures.isEmpty
        let detail = Message.list(passed ? facts : failures, separator: .list.factSeparator)
        return CheckResult(
            id: id, passed: passed,
            reason: Message(
                .imageSizeCheck.imageSizeDetail, ["image": "\(image)", "size": "\(size.displayed)"],
                parts: ["detail": detail]
            ).aside(size.engineNote) + (passed ? nil : size.explanationSuffix),
            measured: size.displayed)
    }
}
