import HandsOnEngine

/// How many columns a terminal gives a text: two for the wide characters of Japanese and Korean (kana, kanji,
/// hangul, full-width forms), one for the rest; so columns line up in every language.
extension String {
    var terminalWidth: Int {
        unicodeScalars.reduce(0) { width, scalar in
            switch scalar.value {
            case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
                0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6:
                return width + 2
            default:
                return width + 1
            }
        }
    }

    /// The text followed by spaces up to `width` columns.
    func padded(toColumns width: Int) -> String {
        self + String(repeating: " ", count: max(width - terminalWidth, 0))
    }
}
