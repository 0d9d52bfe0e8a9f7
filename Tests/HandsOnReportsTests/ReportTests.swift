import Foundation
import HandsOnKitTestSupport
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnFormats
@testable import HandsOnKit
@testable import HandsOnReports

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A CSV reader written apart from the writer, RFC 4180: quoted fields, doubled quotes, CRLF rows.
func readCSV(_ text: String) -> [[String]] {
    var rows: [[String]] = []
    var row: [String] = []
    var field = ""
    var quoted = false
    var characters = Array(text.unicodeScalars)[...]
    while let c = characters.popFirst() {
        if quoted {
            if c == "\"" {
                if characters.first == "\"" {
                    field.unicodeScalars.append(characters.removeFirst())
                } else {
                    quoted = false
                }
            } else {
                field.unicodeScalars.append(c)
            }
        } else if c == "\"" {
            quoted = true
        } else if c == "," {
            row.append(field)
            field = ""
        } else if c == "\r" {
            continue
        } else if c == "\n" {
            row.append(field)
            rows.append(row)
            row = []
            field = ""
        } else {
            field.unicodeScalars.append(c)
        }
    }
    return rows
}

@Suite("Class reports")
struct ReportTests {
    @Test func theFixtureIsARealBatchOfSixAnswers() async {
        #expect(BatchFixtures.grades.count == 6)
        #expect(Set(BatchFixtures.grades.map(\.score)) == [0, 40, 70, 100])
    }

    @Test func theSummaryCountsScoresOverEveryTier() async throws {
        let summary = try BatchFixtures.summary()
        #expect(
            summary.grades.map(\.submission) == ["as-given", "distroless", "edited", "nodockerfile", "scratch", "slim"])
        #expect(summary.mean == 35)
        #expect(summary.median == 20)
        #expect(summary.distribution.map(\.score) == [0, 40, 70, 100])
        #expect(summary.distribution.map(\.count) == [3, 1, 1, 1])
        #expect(ClassSummary.failedChecks(summary.grades[2]).hasPrefix("digest: "))
    }

    @Test func csvHasOneRowPerGradeAndQuotesWhatNeedsIt() async throws {
        let nasty = BatchFixtures.awkward("=HYPERLINK(\"x\"),a", message: "line one\nsays \"no\", then, more")
        let rows = readCSV(CSVReport.render(try BatchFixtures.summary([nasty])))
        #expect(rows.first == CSVReport.header)
        #expect(rows.count == 8 && rows.allSatisfy { $0.count == CSVReport.header.count })
        let scratch = try #require(rows.first { $0[0] == "scratch" })
        #expect(
            scratch[1] == "100" && scratch[3] == "10MB or less" && scratch[4] == "1873629" && scratch[5] == "1.87MB")
        let last = try #require(rows.first { $0[0].contains("HYPERLINK") })
        #expect(last[0] == "'=HYPERLINK(\"x\"),a", "a formula is not run by the spreadsheet")
        #expect(last[8] == "builds: line one\nsays \"no\", then, more")
        #expect(last[4].isEmpty && last[3].isEmpty, "no image, no tier: empty cells")
    }

    @Test func junitParsesAndCarriesTheFailedChecks() async throws {
        let colour = BatchFixtures.awkward(
            "ctrl<&>", message: "\u{1B}[31mred\u{1B}[0m and a bell \u{07} from the build")
        let xml = JUnitReport.render(try BatchFixtures.summary([colour]))
        let counts = XMLCounter()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = counts
        #expect(parser.parse(), "\(String(describing: parser.parserError))")
        #expect(counts.elements["testcase"] == 7)
        #expect(counts.elements["failure"] == 4, "as-given, edited, nodockerfile and the awkward one")
        #expect(counts.attributes.contains { $0["name"] == "ctrl<&>" })
        #expect(counts.text.contains("builds: \u{FFFD}[31mred\u{FFFD}[0m and a bell \u{FFFD} from the build"))
        #expect(counts.attributes.contains { $0["tests"] == "7" && $0["failures"] == "4" })
    }

    @Test func htmlIsSelfContainedAndEscapesWhatAnswersWrite() async throws {
        let script = BatchFixtures.awkward("<script>alert(1)</script>", message: "<img src=x onerror=alert(2)>")
        let html = HTMLReport.render(try BatchFixtures.summary([script], notGraded: ["late"]))
        #expect(!html.contains("<script>alert") && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("<img"))
        #expect(
            !html.contains("http://") && !html.contains("https://") && !html.contains(" src=\"")
                && !html.contains("<link"), "nothing fetched from anywhere")
        #expect(html.contains(english(.htmlReport.incompleteCount, count: 1, ["names": "late"])))
        #expect(
            html.components(separatedBy: "class=\"bar size\"").count - 1 == 5, "a size bar for each of the five images")
        #expect(
            html.contains(">≤10MB: 100</text>") && html.contains(">≤400MB: 40</text>"), "the tier lines are labelled")
    }

    @Test func coloursRunFromRedToGreen() async {
        #expect(HTMLReport.colour(score: 0, max: 100) == "hsl(0, 62%, 40%)")
        #expect(HTMLReport.colour(score: 100, max: 100) == "hsl(120, 62%, 40%)")
        #expect(HTMLReport.colour(score: 150, max: 100) == "hsl(120, 62%, 40%)")
    }

    @Test func reportsAreWrittenWhole() async throws {
        let folder = NSTemporaryDirectory() + "handson-reports-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try BatchReports.write(try BatchFixtures.summary(), to: folder)
        let written = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(written == BatchReports.files.sorted())
        let decoded = try JSONOutput.decode(
            [GradeReport].self, from: Data(contentsOf: URL(fileURLWithPath: "\(folder)/results.json")))
        #expect(decoded.map(\.submission) == BatchFixtures.grades.map(\.submission).sorted())
    }
}

final class XMLCounter: NSObject, XMLParserDelegate {
    var elements: [String: Int] = [:]
    var attributes: [[String: String]] = []
    var text = ""

    func parser(
        _ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        elements[element, default: 0] += 1
        self.attributes.append(attributes)
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
}

@Suite("What makes a class's images big")
struct ClassSizeCausesTests {
    static func grade(
        _ name: String, size: Int64, base: String?, baseBytes: Int64, own: [(String, Int64)], wasted: Int64
    ) -> GradeReport {
        var layers: [ImageSizeMeasurement.Layer] = []
        if base != nil {
            layers.append(
                ImageSizeMeasurement.Layer(
                    entry: "l0", fileBytes: baseBytes, storedBytes: baseBytes, compressed: false,
                    instruction: "imported", fromBase: true))
        }
        layers += own.enumerated().map { index, layer in
            ImageSizeMeasurement.Layer(
                entry: "l\(index + 1)", fileBytes: layer.1, storedBytes: layer.1, compressed: false,
                instruction: layer.0, fromBase: false)
        }
        let breakdown = SizeBreakdown(
            baseImage: base, baseBytes: baseBytes, ownBytes: size - baseBytes, wastedBytes: wasted,
            efficiency: 1 - Double(wasted) / Double(size), layers: layers, largest: [], wasted: [], explanation: "")
        let image = GradeReport.ImageSize(
            sizeBytes: size, size: ByteFormatting.decimal(size), basis: .displayed, breakdown: breakdown)
        return GradeReport(
            submission: name, chapter: "ictsc-diet", score: 0, tier: nil, image: image, checks: [], engine: nil,
            durationSeconds: 1, status: .graded)
    }

    @Test func eachImagesLargestContributorIsGroupedMostCommonFirst() async {
        let grades = [
            Self.grade(
                "a", size: 891_000_000, base: "golang:1.19", baseBytes: 888_000_000, own: [("RUN go build", 3_000_000)],
                wasted: 0),
            Self.grade(
                "b", size: 890_000_000, base: "golang:1.19", baseBytes: 888_000_000, own: [("RUN go build", 2_000_000)],
                wasted: 0),
            Self.grade(
                "c", size: 60_000_000, base: "busybox", baseBytes: 2_000_000,
                own: [("COPY big.bin /", 50_000_000), ("RUN rm /big.bin", 0)], wasted: 50_000_000),
            Self.grade(
                "d", size: 1_900_000, base: nil, baseBytes: 0, own: [("COPY /hash /hash", 1_900_000)], wasted: 0),
        ]
        let causes = ClassSizeCauses.rank(grades)
        #expect(
            causes.map(\.cause) == [
                english(.classSizeCauses.baseImage, ["base": "golang:1.19"]), "COPY big.bin /", "COPY /hash /hash",
            ])
        #expect(causes.first?.submissions == ["a", "b"])
        #expect(causes.first?.medianBytes == 888_000_000)
        let page = HTMLReport.render(
            ClassSummary(chapter: BatchFixtures.chapter!, grades: grades, notGraded: [], generated: Date()))
        #expect(page.contains(english(.htmlReport.whatMakesImagesBig)))
        #expect(page.contains("<svg class=\"chart\" id=\"breakdown\""))
        #expect(page.components(separatedBy: "class=\"bar waste\"").count - 1 == 1, "only c wastes bytes")
    }
}
