import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnFormats

@Suite("Displayed sizes: values and the intervals their rounding allows")
struct DisplayedSizeTests {
    @Test(arguments: [
        // text, best, minimum, maximum
        ("959MB", 959_000_000, 958_500_000, 959_500_000),
        ("27.1MB", 27_100_000, 27_050_000, 27_150_000),
        ("7.85MB", 7_850_000, 7_845_000, 7_855_000),
        ("6.46MB", 6_460_000, 6_455_000, 6_465_000),
        ("10MB", 10_000_000, 9_950_000, 10_050_000),  // %.3g: 10.0, so half a step is 0.05 MB
        ("1MB", 1_000_000, 1_000_000, 1_005_000),  // 1 MB means the value reached 1 MB
        // %g's exponent quirk, just under 1 MB: the best estimate stays inside the interval.
        ("1e+03kB", 999_999, 995_000, 999_999),
        ("1e+03MB", 999_999_999, 995_000_000, 999_999_999),
        ("4.48 MB", 4_480_000, 4_475_000, 4_485_000),  // podman's space
        ("1e+03 MB", 999_999_999, 995_000_000, 999_999_999),
        ("213.4 MB", 213_400_000, 213_350_000, 213_450_000),  // old docker, four digits
        ("0B", 0, 0, 0),
        ("999B", 999, 999, 999),
        ("1.23GB", 1_230_000_000, 1_225_000_000, 1_235_000_000),
        ("1.5KiB", 1536, 1531, 1541),
    ])
    func readsSizesAsDisplayed(text: String, best: Int64, minimum: Int64, maximum: Int64) throws {
        let estimate = try #require(DisplayedSize.parse(text))
        #expect(estimate == ByteSizeEstimate(bytes: best, minimum: minimum, maximum: maximum))
    }

    @Test func virtualSizeWithFourDigitsGivesANarrowerInterval() async throws {
        let estimate = try #require(DisplayedSize.parse("6.465MB", significantDigits: 4))
        #expect(estimate.minimum == 6_464_500 && estimate.maximum == 6_465_500)
        let both = try #require(DisplayedSize.parse("6.47MB")?.intersected(with: estimate))
        #expect(both.minimum == 6_465_000 && both.maximum == 6_465_500)
    }

    @Test(arguments: ["", "MB", "abc", "N/A", "12", "1.2.3MB", "5XB", "-3MB", "1e+99MB", "1.5B"])
    func refusesWhatIsNotASize(text: String) async {
        #expect(DisplayedSize.parse(text) == nil)
    }

    /// For a million random byte counts at every magnitude, formatting as docker (`%.3g` + unit) and podman
    /// (`%.3g unit`) do and reading back gives an interval holding the count.
    @Test func formattingAndParsingBackAlwaysHoldsTheTrueCount() async {
        var generator = SplitMix64(seed: 0x5eed_1234)
        var failures: [String] = []
        for iteration in 0..<1_000_000 {
            // A million rounds take seconds: let the other tests on the shared pool run meanwhile.
            if iteration % 5_000 == 0 { await Task.yield() }
            let magnitude = Int64(generator.next() % 16)
            var bytes = Int64(generator.next() % UInt64(Int64(10).power(magnitude + 1)))
            if iteration % 7 == 0 {  // land on and beside rounding edges: k x 10^n - 1, k x 10^n, + 1, and x95 edges
                let edge = Int64(10).power(magnitude) * Int64(1 + generator.next() % 999)
                bytes = max(0, edge + Int64(generator.next() % 3) - 1 - (iteration % 2 == 0 ? 0 : edge / 200))
            }
            for text in [Self.dockerFormat(bytes), Self.podmanFormat(bytes)] {
                guard let estimate = DisplayedSize.parse(text) else {
                    failures.append("\(bytes) -> '\(text)' unreadable")
                    continue
                }
                if !(estimate.minimum...estimate.maximum).contains(bytes) {
                    failures.append("\(bytes) -> '\(text)' -> [\(estimate.minimum), \(estimate.maximum)]")
                }
            }
            if failures.count > 5 { break }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    static let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]

    static func scaled(_ bytes: Int64) -> (Double, String) {
        var value = Double(bytes)
        var index = 0
        while value >= 1000 && index < units.count - 1 {
            value /= 1000
            index += 1
        }
        return (value, units[index])
    }

    static func dockerFormat(_ bytes: Int64) -> String {
        let (value, unit) = scaled(bytes)
        return String(format: "%.3g", value) + unit
    }

    static func podmanFormat(_ bytes: Int64) -> String {
        let (value, unit) = scaled(bytes)
        return String(format: "%.3g", value) + " " + unit
    }
}

extension Int64 {
    func power(_ exponent: Int64) -> Int64 {
        var result: Int64 = 1
        for _ in 0..<exponent { result *= self }
        return result
    }
}
