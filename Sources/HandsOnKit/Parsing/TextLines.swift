/// Splits text into lines at every LF, keeping a CR that preceded it on the line. Works on Unicode scalars:
/// Swift's `Character` treats "\r\n" as one, so Character-level splits (and corelibs Foundation's
/// `components(separatedBy:)`) never cut CRLF lines.
enum TextLines {
    static func split(_ text: String) -> [String] {
        text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
    }
}
