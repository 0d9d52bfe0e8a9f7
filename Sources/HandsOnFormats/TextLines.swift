/// Splits text into lines at every LF, keeping a CR that preceded it on the line. Works on Unicode scalars:
/// Swift's `Character` treats "\r\n" as one, so Character-level splits (and corelibs Foundation's
/// `components(separatedBy:)`) never cut CRLF lines.
public enum TextLines {
    public static func split(_ text: String) -> [String] {
        text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map {
            String(String.UnicodeScalarView($0))
        }
    }
}

extension String {
    /// Without leading and trailing spaces and tabs, on Unicode scalars: Foundation's `trimmingCharacters(in:)` goes
    /// through NSString on Linux, a large part of a long listing's parse (bench/README.md).
    public var trimmedSpaces: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })!
        return String(scalars[first...last])
    }
}

extension Substring {
    public var trimmedSpaces: String { String(self).trimmedSpaces }
}

/// JSON text for values the parsers print, written directly (JSONEncoder took a quarter of a large parse).
enum JSONText {
    static func string(_ value: String?) -> String {
        guard let value else { return "null" }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func number(_ value: Int64?) -> String { value.map(String.init) ?? "null" }
}
