import Foundation
import HandsOnEngine
import HandsOnKit

/// Text made safe inside XML and HTML, in content and in quoted attribute values alike.
enum Markup {
    /// Escapes the five markup characters and drops what XML 1.0 cannot hold at all (terminal colour codes and other
    /// control characters from build output, shown as U+FFFD), so a page or a JUnit file always parses.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case "\t", "\n": result.unicodeScalars.append(scalar)
            case "\r": result += "&#13;"
            default:
                let value = scalar.value
                let allowed =
                    (0x20...0xD7FF).contains(value) || (0xE000...0xFFFD).contains(value)
                    || (0x10000...0x10FFFF).contains(value)
                if allowed { result.unicodeScalars.append(scalar) } else { result += "\u{FFFD}" }
            }
        }
        return result
    }
}

extension Markup {
    /// A time as the report pages write it: UTC, 24-hour, fixed English digits (`2026-12-01 15:08 UTC`), with the
    /// seconds where a page changes more often than once a minute.
    static func utcTimestamp(_ date: Date, withSeconds: Bool = false) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = withSeconds ? "yyyy-MM-dd HH:mm:ss 'UTC'" : "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }
}
