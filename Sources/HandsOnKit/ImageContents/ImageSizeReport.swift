import Foundation

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
    public let layers: [ImageSizeMeasurement.Layer]

    public init(image: String, measurement: ImageSizeMeasurement, engineListed: String?, store: ImageStore?) {
        self.image = image
        sizeBytes = measurement.sizeBytes
        size = measurement.size
        layers = measurement.layers
        self.engineListed = engineListed
        engineListedNote = Self.note(measured: measurement.size, listed: engineListed, store: store)
    }

    /// "the engine lists 10.6MB: containerd store: compressed content + unpacked snapshots", or nil when the listing
    /// shows the measured figure.
    static func note(measured: String, listed: String?, store: ImageStore?) -> String? {
        guard let listed, let listedBytes = DisplayedSize.nominalBytes(listed),
              listedBytes != DisplayedSize.nominalBytes(measured) else { return nil }
        let why = store?.listingMeaning ?? "the engine counts sizes its own way"
        return "the engine lists \(listed): \(why)"
    }

    /// "6.73MB" or "6.73MB (the engine lists 10.6MB: ...)".
    public var summary: String {
        engineListedNote.map { "\(size) (\($0))" } ?? size
    }
}

extension ContainerEngine {
    /// Measures an image and reads the engine's listing of it.
    public func sizeReport(_ reference: String, store: ImageStore?) throws -> ImageSizeReport {
        let measurement = try measureImage(reference)
        return ImageSizeReport(image: reference, measurement: measurement, engineListed: try? displayedImageSize(reference), store: store)
    }
}
