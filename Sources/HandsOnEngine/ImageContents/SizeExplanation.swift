import Foundation
import HandsOnFormats
import HandsOnMessages

/// Where an image's bytes are, in one sentence a check message can carry: the base image's share and its largest
/// path, what the image's own layers add and which instruction adds most, and the waste when there is some.
/// "go-image:base is 896MB: 99% is the base image golang:1.19 (/usr/lib/go-1.19/pkg/ 329MB); your layers add 7.3MB
/// (most: RUN go build -o ./server-run ./server, 6.7MB)".
package enum SizeExplanation {
    /// Waste is mentioned from this many bytes, or 1% of the image, whichever is less.
    static let wasteWorthSaying: Int64 = 1_000_000

    static func sentence(_ measurement: ImageSizeMeasurement) -> String { message(measurement)?.text() ?? "" }

    /// The sentence as a message, to render in the reader's language; nil when there is nothing to say.
    static func message(_ measurement: ImageSizeMeasurement) -> Message? {
        var parts: [Message] = []
        let total = max(measurement.sizeBytes, 1)
        let baseLayers = measurement.layers.prefix { $0.fromBase }.count
        if let base = measurement.baseImage, measurement.baseBytes > 0 {
            var part = Message(
                .sizeExplanation.percentBaseImageBase,
                ["percent": "\(percent(measurement.baseBytes, of: total))", "base": "\(base)"])
            // A path three levels deep says more than /usr/ ("/usr/lib/go-1.19/pkg/ 329MB"); the largest such one.
            let fromBase = measurement.largest.filter { $0.layer <= baseLayers }
            if let path = fromBase.first(where: { $0.path.split(separator: "/").count >= 3 }) ?? fromBase.first {
                let largest = Message(
                    .sizeExplanation.largestPath,
                    ["path": path.path + (path.isDirectory ? "/" : ""), "size": ByteFormatting.decimal(path.bytes)])
                part = part.aside(largest)
            }
            parts.append(part)
        }
        let own = measurement.layers.enumerated().filter { !$0.element.fromBase }
        if let most = own.max(by: { $0.element.fileBytes < $1.element.fileBytes }), most.element.fileBytes > 0 {
            let values = [
                "own": ByteFormatting.decimal(measurement.ownBytes),
                "largest": ByteFormatting.decimal(most.element.fileBytes),
            ]
            let instruction =
                most.element.instruction.map { Message.literal(Self.shortened($0)) }
                ?? Message(.sizeExplanation.layerValue, ["value": "\(most.offset + 1)"])
            parts.append(
                Message(
                    measurement.baseImage == nil
                        ? .sizeExplanation.layersHoldOwnMost : .sizeExplanation.yourLayersAddOwn,
                    values, parts: ["instruction": instruction]))
        }
        if measurement.wastedBytes >= min(wasteWorthSaying, measurement.sizeBytes / 100), measurement.wastedBytes > 0,
            let first = measurement.wasted.first
        {
            parts.append(
                Message(
                    .sizeExplanation.wastedWastedFilesDeleted,
                    [
                        "wasted": ByteFormatting.decimal(measurement.wastedBytes), "path": "\(first.path)",
                        "file": ByteFormatting.decimal(first.bytes), "addedBy": "\(first.addedBy)",
                        "hiddenBy": "\(first.hiddenBy)",
                    ]))
        }
        return parts.isEmpty ? nil : Message.list(parts, separator: .list.clauseSeparator)
    }

    static func percent(_ part: Int64, of total: Int64) -> String {
        String(format: "%.0f%%", Double(part) / Double(total) * 100)
    }

    /// An instruction cut to 60 characters for a sentence.
    package static func shortened(_ instruction: String) -> String {
        instruction.count > 60 ? String(instruction.prefix(59)) + "…" : instruction
    }
}
