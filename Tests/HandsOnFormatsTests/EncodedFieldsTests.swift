import Foundation
import Testing

@testable import HandsOnFormats

/// The two parse results that write derived fields (`reference`, `healthy`, the size estimate's bounds) keep their own
/// `encode(to:)`; this makes sure a stored field added later is not silently left out of their JSON.
@Suite("Hand-written JSON leaves no field out")
struct EncodedFieldsTests {
    /// The keys of `value`'s JSON object.
    static func keys(of value: some Encodable) throws -> Set<String> {
        let object = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(value)) as? [String: Any]
        return Set(object?.keys.map { $0 } ?? [])
    }

    /// The names of `value`'s stored properties.
    static func storedProperties(of value: Any) -> Set<String> {
        Set(Mirror(reflecting: value).children.compactMap(\.label))
    }

    @Test func everyStoredFieldOfATranscriptIsWritten() throws {
        let transcript = CurlTranscript(httpStatus: 200, curlExitCode: 0, headers: ["a": "b"], body: "{}")
        let written = try Self.keys(of: transcript)
        #expect(Self.storedProperties(of: transcript).subtracting(written).isEmpty, "\(written)")
    }

    @Test func everyStoredFieldOfAListingRowIsWritten() throws {
        let row = ImageListingRow(
            repository: "go-image", tag: "scratch", imageID: "0123", size: "6.73MB",
            estimate: ByteSizeEstimate(bytes: 6_730_000, minimum: 6_725_000, maximum: 6_735_000), line: 2)
        let written = try Self.keys(of: row)
        // The estimate is written as its bounds.
        let stored = Self.storedProperties(of: row).subtracting(["estimate"])
        #expect(stored.subtracting(written).isEmpty, "\(written)")
        #expect(written.isSuperset(of: ["sizeBytes", "sizeBytesMin", "sizeBytesMax"]))
    }

    /// `parse image-ls` writes its rows directly (a 100,000-row listing in a fraction of JSONEncoder's time); what it
    /// writes is what the rows' own encoding says, field for field.
    @Test func theDirectListingWriterWritesWhatTheRowsEncodingSays() throws {
        let rows = [
            ImageListingRow(
                repository: "go-image", tag: "scratch", imageID: "0123", size: "6.73MB",
                estimate: ByteSizeEstimate(bytes: 6_730_000, minimum: 6_725_000, maximum: 6_735_000), line: 2),
            ImageListingRow(repository: nil, tag: nil, imageID: "4567", size: "1.2 GB \"odd\"", estimate: nil, line: 3),
        ]
        let direct = try JSONSerialization.jsonObject(with: Data(ImageListingRow.jsonArray(rows).utf8)) as? NSArray
        let encoded = try JSONSerialization.jsonObject(with: JSONOutput.data(rows)) as? NSArray
        #expect(direct != nil && direct == encoded, "\(ImageListingRow.jsonArray(rows))")
    }
}
