import Foundation
import HandsOnMessages

/// Reads what `docker image ls` and `podman images` print, in any of their forms, also inside a pasted transcript:
/// classic tables (`-a`, `--digests`, `--no-trunc`, custom `table` formats), docker JSON lines, podman's JSON array.
public enum ImageListingParser {
    public static func parse(_ text: String) throws -> [ImageListingRow] {
        let lines = TextLines.split(text).map {
            String(String.UnicodeScalarView($0.unicodeScalars.filter { $0 != "\r" }))
        }
        var rows: [ImageListingRow] = []
        var foundListing = false
        var index = 0
        while index < lines.count {
            let trimmed = lines[index].trimmedSpaces
            if trimmed == "[" || (trimmed.hasPrefix("[") && trimmed.hasSuffix("]") && trimmed.contains("{"))
                || trimmed == "[]"
            {
                if let (parsed, end) = podmanJSON(lines, from: index) {
                    rows += parsed
                    foundListing = true
                    index = end + 1
                    continue
                }
            }
            if trimmed.hasPrefix("{"), let row = dockerJSONLine(trimmed, line: index + 1) {
                rows.append(row)
                foundListing = true
                index += 1
                continue
            }
            if let header = TableHeader(lines[index]) {
                foundListing = true
                index += 1
                var extraNames: [String] = []
                reading: while index < lines.count {
                    switch header.read(lines[index], line: index + 1) {
                    case .image(let row):
                        for name in extraNames {  // the same image under its other tags
                            var tagged = row
                            (tagged.repository, tagged.tag) = ListingValue.splitReference(name)
                            rows.append(tagged)
                        }
                        extraNames = []
                        rows.append(row)
                    case .treeDetail(let name):
                        if let name { extraNames.append(name) }
                    case .end:
                        break reading
                    }
                    index += 1
                }
                continue
            }
            index += 1
        }
        guard foundListing else {
            let first = lines.enumerated().first { !$0.element.trimmedSpaces.isEmpty }
            throw ListingParseError(
                line: (first?.offset ?? 0) + 1, text: first?.element ?? say(.listingParseError.emptyInput))
        }
        return rows
    }

    // MARK: - JSON

    /// `{{json .}}` / `--format json`: every value a string; `VirtualSize` (up to v28) has four digits.
    static func dockerJSONLine(_ text: String, line: Int) -> ImageListingRow? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            object["Size"] != nil || object["Repository"] != nil
        else { return nil }
        let size = object["Size"] as? String
        var estimate = size.flatMap { DisplayedSize.parse($0) }
        if let virtual = (object["VirtualSize"] as? String).flatMap({ DisplayedSize.parse($0, significantDigits: 4) }) {
            estimate = estimate.flatMap { $0.intersected(with: virtual) } ?? virtual
        }
        return ImageListingRow(
            repository: ListingValue.value(object["Repository"] as? String),
            tag: ListingValue.value(object["Tag"] as? String),
            imageID: ListingValue.value(object["ID"] as? String), size: size, estimate: estimate, line: line)
    }

    /// podman's pretty-printed array with integer sizes: one row per name (or one unnamed row).
    static func podmanJSON(_ lines: [String], from start: Int) -> ([ImageListingRow], Int)? {
        var end = start
        while end < lines.count {
            let trimmed = lines[end].trimmedSpaces
            if trimmed.hasSuffix("]") && (trimmed == "]" || end == start),
                let array = try? JSONSerialization.jsonObject(
                    with: Data(lines[start...end].joined(separator: "\n").utf8)) as? [[String: Any]]
            {
                var rows: [ImageListingRow] = []
                for image in array {
                    let bytes = (image["Size"] as? NSNumber)?.int64Value
                    let names = (image["Names"] as? [String]) ?? (image["RepoTags"] as? [String]) ?? []
                    let id = (image["Id"] as? String) ?? (image["ID"] as? String)
                    for name in names.isEmpty ? [nil] : names.map(Optional.some) {
                        let (repository, tag) = name.map(ListingValue.splitReference) ?? (nil, nil)
                        rows.append(
                            ImageListingRow(
                                repository: repository, tag: tag, imageID: id, size: bytes.map(String.init),
                                estimate: bytes.map(ByteSizeEstimate.exact), line: start + 1))
                    }
                }
                return (rows, end)
            }
            end += 1
        }
        return nil
    }
}

/// A table header: its columns and where each starts, so rows can be split by runs of spaces or by position.
struct TableHeader {
    enum Column: Equatable {
        case repository, tag, repositoryAndTag, imageID, size, virtualSize, other
    }

    let columns: [Column]
    let offsets: [Int]
    /// docker v29's default view: `IMAGE  ID  DISK USAGE  CONTENT SIZE  EXTRA`, platform children under each image,
    /// extra tags of one image on name-only lines above its row, blank lines between images.
    let isTree: Bool

    init?(_ line: String) {
        let cells = Self.cells(line)
        let names = cells.map { $0.text.uppercased() }
        guard names.contains("SIZE") || names.contains("VIRTUAL SIZE") || names.contains("DISK USAGE"),
            names.contains(where: { ["REPOSITORY", "TAG", "IMAGE ID", "REPOSITORY:TAG", "ID", "IMAGE"].contains($0) })
        else { return nil }
        isTree = names.first == "IMAGE" && names.contains("DISK USAGE")
        columns = names.map { name in
            switch name {
            case "REPOSITORY": return .repository
            case "TAG": return .tag
            case "REPOSITORY:TAG", "IMAGE": return .repositoryAndTag
            case "IMAGE ID", "ID": return .imageID
            case "SIZE", "DISK USAGE": return .size
            case "VIRTUAL SIZE": return .virtualSize
            default: return .other
            }
        }
        offsets = cells.map(\.offset)
    }

    /// What one line of the table holds.
    enum Line {
        case image(ImageListingRow)
        /// A tree view's platform child, blank separator, or extra tag name: part of the table, no row of its own.
        case treeDetail(extraName: String?)
        /// The table has ended (blank line, prompt, text that does not fit).
        case end
    }

    func read(_ line: String, line number: Int) -> Line {
        let trimmed = line.trimmedSpaces
        if isTree {
            if trimmed.isEmpty || trimmed.hasPrefix("├─") || trimmed.hasPrefix("└─") || trimmed.hasPrefix("│") {
                return .treeDetail(extraName: nil)
            }
            let cells = Self.cells(line)
            if cells.count == 1, cells[0].offset == 0 { return .treeDetail(extraName: cells[0].text) }
        }
        return row(line, line: number).map(Line.image) ?? .end
    }

    /// Reads a row, or nil where the table has ended (blank line, prompt, text that does not fit).
    func row(_ line: String, line number: Int) -> ImageListingRow? {
        let trimmed = line.trimmedSpaces
        if trimmed.isEmpty || trimmed.hasPrefix("$ ") || trimmed.hasPrefix("```") || trimmed.hasPrefix("# ") {
            return nil
        }
        var values = Self.cells(line).map(\.text)
        if values.count < columns.count, columns[values.count...].allSatisfy({ $0 == .other }) {
            values += Array(repeating: "", count: columns.count - values.count)  // empty trailing columns (EXTRA)
        }
        if values.count != columns.count { values = positional(line) }
        guard values.count == columns.count else { return nil }
        var row = ImageListingRow(line: number)
        var displayed: ByteSizeEstimate?
        var virtual: ByteSizeEstimate?
        for (column, value) in zip(columns, values) {
            switch column {
            case .repository: row.repository = ListingValue.value(value)
            case .tag: row.tag = ListingValue.value(value)
            case .repositoryAndTag: (row.repository, row.tag) = ListingValue.splitReference(value)
            case .imageID: row.imageID = ListingValue.value(value)
            case .size:
                row.size = value
                guard value == "N/A" || DisplayedSize.parse(value) != nil else { return nil }
                displayed = DisplayedSize.parse(value)
            case .virtualSize:
                virtual = DisplayedSize.parse(value)
                if row.size == nil { row.size = value }
            case .other: break
            }
        }
        if let displayed, let virtual {
            row.estimate = displayed.intersected(with: virtual) ?? displayed
        } else {
            row.estimate = displayed ?? virtual
        }
        return row
    }

    /// Cells cut at the header's column starts (for rows whose single spaces confuse the split).
    private func positional(_ line: String) -> [String] {
        let scalars = Array(line.unicodeScalars)
        return offsets.indices.map { index in
            let start = min(offsets[index], scalars.count)
            let end = index + 1 < offsets.count ? min(offsets[index + 1], scalars.count) : scalars.count
            var cell = String.UnicodeScalarView()
            cell.append(contentsOf: scalars[start..<max(start, end)])
            return String(cell).trimmedSpaces
        }
    }

    /// Cells separated by a tab or by two or more spaces, with the column (in Unicode scalars) each starts at.
    static func cells(_ line: String) -> [(text: String, offset: Int)] {
        var result: [(String, Int)] = []
        let scalars = line.unicodeScalars
        var index = scalars.startIndex
        var column = 0
        while index < scalars.endIndex {
            while index < scalars.endIndex && (scalars[index] == " " || scalars[index] == "\t") {
                index = scalars.index(after: index)
                column += 1
            }
            guard index < scalars.endIndex else { break }
            let start = index
            let startColumn = column
            var end = index
            while index < scalars.endIndex {
                let scalar = scalars[index]
                if scalar == "\t" { break }
                if scalar == " " {
                    let next = scalars.index(after: index)
                    if next == scalars.endIndex || scalars[next] == " " || scalars[next] == "\t" { break }
                } else {
                    end = scalars.index(after: index)
                }
                index = scalars.index(after: index)
                column += 1
            }
            result.append((String(scalars[start..<end]), startColumn))
        }
        return result
    }
}
