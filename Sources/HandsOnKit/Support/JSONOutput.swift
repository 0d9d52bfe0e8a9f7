import Foundation

/// JSON for stdout and the reports: sorted keys, pretty, no escaped slashes, times in ISO 8601 with milliseconds.
public enum JSONOutput {
    public static func encode<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = BatchResultStore.millisecondDates
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Reads what `encode` wrote (and ISO 8601 times without milliseconds).
    public static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
        try BatchResultStore.decoder.decode(type, from: data)
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
