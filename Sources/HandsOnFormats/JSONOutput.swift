import Foundation

/// The one way HandsOn writes JSON (stdout, reports, results, history lines, progress, the size cache): sorted keys,
/// except `cacheLine` (the size cache), no escaped slashes, times in ISO 8601 with milliseconds; pretty, or one line.
public enum JSONOutput {
    public static func encode<Value: Encodable>(_ value: Value) throws -> String {
        String(decoding: try data(value), as: UTF8.self)
    }

    /// The pretty form's bytes.
    public static func data<Value: Encodable>(_ value: Value) throws -> Data { try pretty.encode(value) }

    /// One line, for JSON Lines (a history) and a batch's result files (`results/<name>.json`, the history's line).
    public static func line<Value: Encodable>(_ value: Value) throws -> Data { try compact.encode(value) }

    /// One line with its keys in no set order, for a cache only HandsOn reads (sorting a measurement's thousands of
    /// paths was two fifths of the time to write it).
    package static func cacheLine<Value: Encodable>(_ value: Value) throws -> Data { try unsorted.encode(value) }

    private static let pretty = encoder([.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    private static let compact = encoder([.sortedKeys, .withoutEscapingSlashes])
    private static let unsorted = encoder([.withoutEscapingSlashes])

    package static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = InternetTime.date(text) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 time: \(text)"))
            }
            return date
        }
        return decoder
    }()

    /// ISO 8601 with milliseconds: two grades a moment apart keep their order (a contest's ties go to the earlier).
    package static let millisecondDates = JSONEncoder.DateEncodingStrategy.custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(InternetTime.string(date))
    }

    private static func encoder(_ formatting: JSONEncoder.OutputFormatting) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = formatting
        encoder.dateEncodingStrategy = millisecondDates
        return encoder
    }

    /// Reads what `encode` wrote (and ISO 8601 times without milliseconds).
    public static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
        try decoder.decode(type, from: data)
    }
}

/// Sizes for people, in decimal units as docker shows them.
public enum ByteFormatting {
    public static func decimal(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return String(format: "%.3g", value) + units[unit]
    }
}
