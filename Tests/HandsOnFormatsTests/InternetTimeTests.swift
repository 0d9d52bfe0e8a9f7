import Foundation
import Testing

@testable import HandsOnFormats

@Suite("Internet times as the results files hold them")
struct InternetTimeTests {
    static func foundation(fraction: Bool = true) -> ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = fraction ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return formatter
    }

    /// Written as Foundation's formatter writes them, and read back as it reads them, over four centuries of random
    /// instants (leap days and month ends among them; before 1970, Foundation's own) and some chosen ones.
    @Test func writingAndReadingAgreeWithFoundationsFormatter() {
        var generator = SystemRandomNumberGenerator()
        let chosen: [Double] = [0, -0.001, 951_782_400.5, 1_796_429_534.792, 4_107_542_399.999, -2_208_988_800]
        let random = (0..<3000).map { _ in
            Double(Int64.random(in: -6_000_000_000_000_000...7_000_000_000_000_000, using: &generator)) / 1_000_000
        }
        for seconds in chosen + random {
            let date = Date(timeIntervalSince1970: seconds)
            let text = InternetTime.string(date)
            #expect(text == Self.foundation().string(from: date), "\(seconds)")
            let read = InternetTime.date(text)
            #expect(read == Self.foundation().date(from: text), "\(text)")
        }
    }

    @Test(arguments: [
        ("2026-12-05T00:11:10Z", 1_796_429_470.0),
        ("2026-12-05T09:11:10+09:00", 1_796_429_470.0),
        ("2026-12-04T23:41:10.5-00:30", 1_796_429_470.5),
        ("2024-02-29T12:00:00.123456Z", 1_709_208_000.123456),
    ])
    func otherFormsOfTheSameTime(text: String, seconds: Double) throws {
        let date = try #require(InternetTime.date(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.000_001)
        #expect(
            abs(
                date.timeIntervalSince1970
                    - (Self.foundation(fraction: text.contains(".")).date(from: text)?.timeIntervalSince1970 ?? 0))
                < 0.001)
    }

    @Test(arguments: [
        "", "2026-12-05", "2026-13-05T00:00:00Z", "2026-12-05T00:00:00", "2026-12-05T00:00:00.Z",
        "yesterday",
    ])
    func notATime(text: String) {
        #expect(InternetTime.date(text) == nil)
    }
}
