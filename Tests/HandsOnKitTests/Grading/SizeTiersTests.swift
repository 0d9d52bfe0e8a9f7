import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnFormats
@testable import HandsOnKit

@Suite("Size tiers at their boundaries, on both bases")
struct SizeTiersTests {
    @Test(arguments: [
        // displayed, exact bytes, score on the displayed basis, score on the exact basis
        ("959MB", 958_764_123, 0, 0),
        ("400MB", 400_499_999, 40, 0),  // listed as 400MB: the contest rule accepts it; exact bytes do not
        ("400MB", 400_000_000, 40, 40),
        ("401MB", 400_500_000, 0, 0),
        ("100MB", 100_049_999, 70, 40),
        ("27.1MB", 27_100_000, 70, 70),
        ("10MB", 10_049_999, 100, 70),  // "10MB or less" accepts an image listed as 10MB
        ("10.1MB", 10_050_000, 70, 70),
        ("7.85MB", 7_850_000, 100, 100),
        ("1e+03kB", 999_999, 100, 100),
    ])
    func scoresByTheRulesBasis(displayed: String, exact: Int64, displayedScore: Int, exactScore: Int) throws {
        let size = MeasuredSize(exactBytes: exact, displayed: displayed)
        #expect(try #require(SizeTiers.diet.evaluate(size)).score == displayedScore)
        #expect(try #require(SizeTiers(SizeTiers.diet.tiers, basis: .exact).evaluate(size)).score == exactScore)
    }

    @Test func saysWhichTierWasReachedAndWhatTheNextNeeds() async throws {
        let middle = try #require(SizeTiers.diet.evaluate(MeasuredSize(exactBytes: 27_100_000, displayed: "27.1MB")))
        #expect(
            middle.reason.allKeys == [
                "sizeTiers.reached", "literal", "sizeTiers.labelGivesScore", "sizeTiers.decimalLess",
            ])
        #expect(middle.reason.value("text") == "27.1MB" && middle.reason.value("score") == "70")
        #expect(middle.reason.then?.first?.values == ["score": "100"])
        #expect(middle.reason.then?.first?.parts?["label"] == SizeTier(maxBytes: 10_000_000, score: 100).labelMessage)
        #expect(middle.tier == SizeTier(maxBytes: 100_000_000, score: 70))
        let none = try #require(SizeTiers.diet.evaluate(MeasuredSize(exactBytes: 959_000_000, displayed: "959MB")))
        #expect(none.reason.value("score") == "0")
        #expect(none.reason.then?.first?.values == ["score": "40"])
        #expect(none.reason.then?.first?.value("decimal") == "400MB")
        #expect(none.tier == nil)
        let best = try #require(SizeTiers.diet.evaluate(MeasuredSize(exactBytes: 7_850_000, displayed: "7.85MB")))
        #expect(best.reason.value("score") == "100")
        #expect(best.reason.then?.map(\.key) == ["sizeTiers.bestTier"])
        let exact = try #require(
            SizeTiers(SizeTiers.diet.tiers, basis: .exact).evaluate(
                MeasuredSize(exactBytes: 10_000_001, displayed: "10MB")))
        #expect(exact.reason.parts?["size"] == Message(.sizeTiers.exactbytesBytes, ["exactBytes": "10000001"]))
        #expect(exact.reason.value("score") == "70")
    }

    @Test func anUnreadableDisplayedSizeIsNotScored() async {
        #expect(SizeTiers.diet.evaluate(MeasuredSize(exactBytes: 5, displayed: "N/A")) == nil)
    }

    @Test func nominalBytesAreTheValueAsShown() async {
        #expect(DisplayedSize.nominalBytes("10MB") == 10_000_000)
        #expect(DisplayedSize.nominalBytes("1e+03kB") == 1_000_000)
        #expect(DisplayedSize.nominalBytes("4.48 MB") == 4_480_000)
        #expect(DisplayedSize.nominalBytes("1.5KiB") == 1536)
        #expect(DisplayedSize.nominalBytes("lots") == nil)
    }
}
