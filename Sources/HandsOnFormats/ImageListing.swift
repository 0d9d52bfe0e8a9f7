import Foundation
import HandsOnMessages

/// One image row of a listing, whatever engine or format printed it.
public struct ImageListingRow: Sendable, Equatable, Encodable {
    /// As shown; nil for `<none>`.
    public var repository: String?
    public var tag: String?
    public var imageID: String?
    /// The size as displayed (`6.46MB`, `4.48 MB`), or the integer a JSON source gave, as text.
    public var size: String?
    public var estimate: ByteSizeEstimate?
    /// 1-based line in the input where the row was read.
    public var line: Int

    public var reference: String? {
        guard let repository, let tag else { return nil }
        return "\(repository):\(tag)"
    }

    enum CodingKeys: String, CodingKey {
        case repository, tag, reference, imageID, size, sizeBytes, sizeBytesMin, sizeBytesMax, line
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(repository, forKey: .repository)
        try container.encode(tag, forKey: .tag)
        try container.encode(reference, forKey: .reference)
        try container.encode(imageID, forKey: .imageID)
        try container.encode(size, forKey: .size)
        try container.encode(estimate?.bytes, forKey: .sizeBytes)
        try container.encode(estimate?.minimum, forKey: .sizeBytesMin)
        try container.encode(estimate?.maximum, forKey: .sizeBytesMax)
        try container.encode(line, forKey: .line)
    }
}

extension ImageListingRow {
    /// The rows as a pretty JSON array (same shape as JSONOutput: sorted keys, explicit nulls), written directly.
    public static func jsonArray(_ rows: [ImageListingRow]) -> String {
        guard !rows.isEmpty else { return "[\n\n]" }
        var out = "[\n"
        out.reserveCapacity(rows.count * 300)
        for (index, row) in rows.enumerated() {
            let fields: [(String, String)] = [
                ("imageID", JSONText.string(row.imageID)), ("line", String(row.line)),
                ("reference", JSONText.string(row.reference)), ("repository", JSONText.string(row.repository)),
                ("size", JSONText.string(row.size)), ("sizeBytes", JSONText.number(row.estimate?.bytes)),
                ("sizeBytesMax", JSONText.number(row.estimate?.maximum)),
                ("sizeBytesMin", JSONText.number(row.estimate?.minimum)),
                ("tag", JSONText.string(row.tag)),
            ]
            out += "  {\n"
            out += fields.map { "    \"\($0.0)\" : \($0.1)" }.joined(separator: ",\n")
            out += index == rows.count - 1 ? "\n  }\n" : "\n  },\n"
        }
        return out + "]"
    }
}

/// The input held no listing; names the first line that could not be read.
public struct ListingParseError: MessageError, Equatable {
    public let line: Int
    public let text: String

    public var message: Message {
        let shown = text.count > 80 ? String(text.prefix(77)) + "..." : text
        return Message(.listingParseError.line, ["line": "\(line)", "text": shown])
    }
}

/// `<none>` means no value.
enum ListingValue {
    static func value(_ text: String?) -> String? {
        guard let text = text?.trimmedSpaces, !text.isEmpty, text != "<none>", text != "<untagged>" else { return nil }
        return text
    }

    /// `repo:tag` split at the last colon that is not part of a registry host's port.
    static func splitReference(_ text: String) -> (String?, String?) {
        if let at = text.firstIndex(of: "@") { return (value(String(text[..<at])), nil) }
        guard let colon = text.lastIndex(of: ":"), !text[text.index(after: colon)...].contains("/") else {
            return (value(text), nil)
        }
        return (value(String(text[..<colon])), value(String(text[text.index(after: colon)...])))
    }
}
