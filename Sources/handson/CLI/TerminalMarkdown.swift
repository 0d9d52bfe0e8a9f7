import HandsOnEngine
import HandsOnFormats
import HandsOnKit

/// Markdown for a terminal: headings bold (and underlined by a rule), `**strong**` and `*emphasis*` bold,
/// `code` in cyan, fenced code blocks set apart with a bar. Plain text where colour is off.
enum TerminalMarkdown {
    static func render(_ markdown: String, style: TextStyle) -> String {
        var output: [String] = []
        var inCode = false
        for line in TextLines.split(markdown) {
            let trimmed = line.trimmedSpaces
            if trimmed.hasPrefix("```") {
                inCode.toggle()
                output.append(
                    style.dim(
                        inCode ? "  ┌──" + (trimmed.dropFirst(3).isEmpty ? "" : " " + trimmed.dropFirst(3)) : "  └──"))
                continue
            }
            if inCode {
                output.append(style.dim("  │ ") + line)
                continue
            }
            if trimmed.hasPrefix("#") {
                let level = trimmed.prefix { $0 == "#" }.count
                let title = inline(String(trimmed.dropFirst(level)).trimmedSpaces, style: style, insideBold: true)
                output.append(style.bold(title))
                if level <= 2 {
                    output.append(
                        style.dim(
                            String(repeating: level == 1 ? "═" : "─", count: min(max(title.terminalWidth, 8), 72))))
                }
                continue
            }
            if trimmed.hasPrefix("- ") || trimmed.hasPrefix("* ") {
                output.append("  • " + inline(String(trimmed.dropFirst(2)), style: style))
                continue
            }
            output.append(inline(line, style: style))
        }
        return output.joined(separator: "\n")
    }

    /// `**bold**`, `*emphasis*`, `_emphasis_` and `code` spans.
    static func inline(_ text: String, style: TextStyle, insideBold: Bool = false) -> String {
        var result = ""
        var index = text.startIndex
        while index < text.endIndex {
            let rest = text[index...]
            if rest.hasPrefix("`"), let close = rest.dropFirst().firstIndex(of: "`") {
                result += style.cyan(String(rest[rest.index(after: rest.startIndex)..<close]))
                index = text.index(after: close)
            } else if rest.hasPrefix("**"), let close = rest.dropFirst(2).range(of: "**") {
                let inner = String(rest[rest.index(rest.startIndex, offsetBy: 2)..<close.lowerBound])
                result += insideBold ? inner : style.bold(inner)
                index = close.upperBound
            } else if rest.hasPrefix("*") || rest.hasPrefix("_"), rest.count > 2, let marker = rest.first,
                rest.dropFirst().first != " ", let close = rest.dropFirst().firstIndex(of: marker),
                close > rest.index(after: rest.startIndex)
            {
                let inner = String(rest[rest.index(after: rest.startIndex)..<close])
                result += insideBold ? inner : style.bold(inner)
                index = text.index(after: close)
            } else {
                result.append(text[index])
                index = text.index(after: index)
            }
        }
        return result
    }
}
