import Foundation
import HandsOnFormats
import HandsOnMessages

/// An image's measured size with the engine's own listing beside it, and why the two differ when they do.
public struct ImageSizeReport: Sendable, Codable, Equatable {
    public let image: String
    /// HandsOn's measurement: what tiers and checks compare.
    public let sizeBytes: Int64
    /// `sizeBytes` as `docker image ls` writes sizes.
    public let size: String
    /// The engine's SIZE column for this image (`10.6MB`, `6.74 MB`); nil when the listing could not be read.
    public let engineListed: String?
    /// Why the engine lists another figure; nil when it lists the same one.
    public let engineListedNote: String?
    /// The same, to render in the reader's language.
    public let engineListedReason: Message?
    /// The image the lowest layers come from, and their bytes; the rest are the image's own.
    public let baseImage: String?
    public let baseBytes: Int64
    public let ownBytes: Int64
    /// Each layer from the lowest: its bytes, the instruction that made it, whether the base image holds it.
    public let layers: [ImageSizeMeasurement.Layer]
    /// The largest paths of the final file system (directories with their totals), largest first.
    public let largest: [PathSize]
    /// Bytes layers add that the final file system does not show, and the largest such files.
    public let wastedBytes: Int64
    public let wasted: [WastedFile]
    /// 1 - wasted / total, as dive defines it.
    public let efficiency: Double
    /// One sentence on where the bytes are, for check messages ("99% is the base image golang:1.19 (...); ...").
    public let explanation: String
    /// The same, to render in the reader's language.
    public let explanationReason: Message?

    public init(image: String, measurement: ImageSizeMeasurement, engineListed: String?, store: ImageStore?) {
        self.image = image
        sizeBytes = measurement.sizeBytes
        size = measurement.size
        baseImage = measurement.baseImage
        baseBytes = measurement.baseBytes
        ownBytes = measurement.ownBytes
        layers = measurement.layers
        largest = measurement.largest
        wastedBytes = measurement.wastedBytes
        wasted = measurement.wasted
        efficiency = (measurement.efficiency * 10_000).rounded() / 10_000
        explanationReason = SizeExplanation.message(measurement)
        explanation = explanationReason?.text() ?? ""
        self.engineListed = engineListed
        engineListedReason = Self.note(measured: measurement.size, listed: engineListed, store: store)
        engineListedNote = engineListedReason?.text()
    }

    /// "the engine lists 10.6MB: containerd store: compressed content + unpacked snapshots", or nil when the listing
    /// shows the measured figure.
    static func note(measured: String, listed: String?, store: ImageStore?) -> Message? {
        guard let listed, let listedBytes = DisplayedSize.nominalBytes(listed),
            listedBytes != DisplayedSize.nominalBytes(measured)
        else { return nil }
        let why = store?.listingMeaningMessage ?? Message(.imageSizeReport.engineCountsSizesOwn)
        return Message(.imageSizeReport.engineListsListedWhy, ["listed": "\(listed)"], parts: ["why": why])
    }

    /// Where the bytes are, as a grade records it.
    public var breakdown: SizeBreakdown {
        SizeBreakdown(
            baseImage: baseImage, baseBytes: baseBytes, ownBytes: ownBytes, wastedBytes: wastedBytes,
            efficiency: efficiency,
            layers: layers, largest: Array(largest.prefix(5)), wasted: Array(wasted.prefix(5)), explanation: explanation
        )
    }

}

/// Where a graded image's bytes are: base image, its own layers, waste (what `grade --json` and reports carry).
public struct SizeBreakdown: Sendable, Codable, Equatable {
    public let baseImage: String?
    public let baseBytes: Int64
    public let ownBytes: Int64
    public let wastedBytes: Int64
    public let efficiency: Double
    public let layers: [ImageSizeMeasurement.Layer]
    /// The five largest paths of the final file system.
    public let largest: [PathSize]
    /// The five largest wasted files.
    public let wasted: [WastedFile]
    public let explanation: String
}

extension ContainerEngine {
    /// Measures an image, finds which of the lab images (or `bases`) its lowest layers come from, and reads the
    /// engine's listing of it.
    public func sizeReport(_ reference: String, store: ImageStore?, bases: [String]) async throws
        -> ImageSizeReport
    {
        // The engine's listing is asked while the layers are read.
        async let listed = try? displayedImageSize(reference)
        let measurement = try await analyzeImage(reference, bases: bases)
        return ImageSizeReport(image: reference, measurement: measurement, engineListed: await listed, store: store)
    }

    /// `measureImage` with the base image found among the lab images and `bases`.
    public func analyzeImage(_ reference: String, bases: [String]) async throws -> ImageSizeMeasurement {
        try await measureImage(reference, baseCandidates: bases + LabImage.catalog.map(\.reference))
    }
}
