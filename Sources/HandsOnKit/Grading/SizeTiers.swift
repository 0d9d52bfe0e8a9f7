import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnMessages

/// Which size a tier compares: the size as `docker image ls` displays it (the contest rules read that column,
/// so "10MB or less" accepts an image listed as `10MB`), or the exact byte count.
public enum SizeBasis: String, Sendable, Codable {
    case displayed
    case exact
}

/// One bound: an image of at most `maxBytes` (decimal units) earns `score`.
public struct SizeTier: Sendable, Equatable, Codable {
    public let maxBytes: Int64
    public let score: Int

    public init(maxBytes: Int64, score: Int) {
        self.maxBytes = maxBytes
        self.score = score
    }

    /// "400MB or less".
    public var label: String { labelMessage.text() }

    /// "10MB or less", to render in the reader's language.
    public var labelMessage: Message {
        Message(.sizeTiers.decimalLess, ["decimal": "\(ByteFormatting.decimal(maxBytes))"])
    }
}

/// The size an image was measured at, in both forms.
public struct MeasuredSize: Sendable, Equatable, Codable {
    public let exactBytes: Int64
    /// As `docker image ls` writes sizes (`27.1MB`): HandsOn's measurement written so, or a pasted listing's text.
    public let displayed: String
    /// Why the engine's own listing shows another figure, when it does.
    public var engineNote: Message?
    /// Where the bytes are, for a message about a size that misses its mark.
    public var explanation: Message?

    public init(exactBytes: Int64, displayed: String, engineNote: Message? = nil, explanation: Message? = nil) {
        self.exactBytes = exactBytes
        self.displayed = displayed
        self.engineNote = engineNote
        self.explanation = explanation
    }

    /// HandsOn's own measurement, with the engine's listing beside it.
    public init(_ report: ImageSizeReport) {
        self.init(
            exactBytes: report.sizeBytes, displayed: report.size, engineNote: report.engineListedReason,
            explanation: report.explanationReason)
    }

    /// ". 99% is the base image ..." to end a message about a size that misses its mark; nil when unknown.
    public var explanationSuffix: Message? {
        explanation.map { Message(.sizeTiers.explanationSuffix, parts: ["explanation": $0]) }
    }

    /// " (the engine lists 30.2MB: ...)" to follow the size in a message; nil when the engine lists the same.
    /// "27.1MB", or "27.1MB (the engine lists 30.2MB: ...)".
    public var described: Message { Message.literal(displayed).aside(engineNote) }
}

/// What the tiers gave an image, and what the next tier needs.
public struct TierOutcome: Sendable, Equatable, Codable {
    public let score: Int
    /// The tier reached, nil when none was.
    public let tier: SizeTier?
    /// The bytes the tiers compared (nominal displayed value, or exact bytes).
    public let comparedBytes: Int64
    /// "27.1MB: 70%; 10MB or less gives 100%", keyed.
    public let reason: Message

    /// `reason` in the current language.
    public var message: String { reason.text() }
}

/// An ordered list of size bounds and scores (ICTSC's "diet": 400MB or less 40, 100MB or less 70, 10MB or less 100).
public struct SizeTiers: Sendable, Equatable, Codable {
    public let tiers: [SizeTier]
    public let basis: SizeBasis

    public init(_ tiers: [SizeTier], basis: SizeBasis = .displayed) {
        self.tiers = tiers.sorted { $0.maxBytes > $1.maxBytes }
        self.basis = basis
    }

    public static let diet = SizeTiers([
        SizeTier(maxBytes: 400_000_000, score: 40),
        SizeTier(maxBytes: 100_000_000, score: 70),
        SizeTier(maxBytes: 10_000_000, score: 100),
    ])

    /// Scores a size; nil when the displayed size cannot be read (the caller reports it as such).
    public func evaluate(_ size: MeasuredSize) -> TierOutcome? {
        let compared: Int64
        let shown: Message
        switch basis {
        case .displayed:
            guard let nominal = DisplayedSize.nominalBytes(size.displayed) else { return nil }
            compared = nominal
            shown = .literal(size.displayed)
        case .exact:
            compared = size.exactBytes
            shown = Message(.sizeTiers.exactbytesBytes, ["exactBytes": "\(size.exactBytes)"])
        }
        let reached = tiers.filter { compared <= $0.maxBytes }.max { $0.score < $1.score }
        let score = reached?.score ?? 0
        let better = tiers.filter { $0.score > score }.max { $0.maxBytes < $1.maxBytes }
        let next =
            better.map {
                Message(.sizeTiers.labelGivesScore, ["score": "\($0.score)"], parts: ["label": $0.labelMessage])
            }
            ?? Message(.sizeTiers.bestTier)
        return TierOutcome(
            score: score, tier: reached, comparedBytes: compared,
            reason: Message(.sizeTiers.reached, ["score": "\(score)"], parts: ["size": shown]) + next)
    }
}
