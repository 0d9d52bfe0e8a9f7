import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnFormats

@Suite("Image listings from real engines")
struct ImageListingParserTests {
    @Test(arguments: [
        ("docker-table.txt", "docker"), ("docker-digests.txt", "docker"), ("docker-no-trunc.txt", "docker"),
        ("docker-format-repotag.txt", "docker"), ("docker-json-lines.txt", "docker"),
        ("docker-format-json.txt", "docker"),
        ("podman-table.txt", "podman"), ("podman-json.txt", "podman"),
    ])
    func everyRowsIntervalHoldsTheEnginesExactByteCount(file: String, engine: String) throws {
        let rows = try ImageListingParser.parse(try ListingFixtures.text(file))
        let exact = try ListingFixtures.exactSizes(engine)
        #expect(rows.count == exact.count)
        for row in rows {
            let tag = try #require(row.tag)
            let bytes = try #require(exact[tag])
            let estimate = try #require(row.estimate, "row for \(tag) has a size")
            #expect(
                (estimate.minimum...estimate.maximum).contains(bytes), "\(file) \(tag): \(bytes) not in \(estimate)")
            #expect(ImageReference(row.reference ?? "") == ImageReference("handson-fixture/edge:\(tag)"))
        }
    }

    @Test func theTierEdgesReadAsTheContestReadsThem() async throws {
        let rows = try ImageListingParser.parse(try ListingFixtures.text("docker-table.txt"))
        func row(_ tag: String) throws -> ImageListingRow { try #require(rows.first { $0.tag == tag }) }
        #expect(try row("b10049999").size == "10MB")  // 10,049,999 bytes is listed as 10MB
        #expect(try row("b10050000").size == "10.1MB")
        #expect(try row("b999999").size == "1e+03kB")  // the %g quirk, read as just under 1 MB
        #expect(try row("b999999").estimate?.maximum == 999_999)
        #expect(try row("b0").estimate == .exact(0))
        #expect(try row("b999").estimate == .exact(999))
        #expect(try row("b999999999").size == "1e+03MB")  // just under 1 GB
        #expect(try row("b1000000000").size == "1GB")
    }

    @Test func jsonWithVirtualSizeIsNarrowerThanTheTable() async throws {
        let table = try ImageListingParser.parse(try ListingFixtures.text("docker-table.txt"))
        let json = try ImageListingParser.parse(try ListingFixtures.text("docker-json-lines.txt"))
        #expect(table.count == json.count)
        for fromJSON in json {
            let fromTable = try #require(table.first { $0.tag == fromJSON.tag })
            let wide = try #require(fromTable.estimate)
            let narrow = try #require(fromJSON.estimate)
            #expect(narrow.maximum - narrow.minimum <= wide.maximum - wide.minimum)
        }
    }

    @Test func podmanJSONSizesAreExactAndNamesFullyQualified() async throws {
        let rows = try ImageListingParser.parse(try ListingFixtures.text("podman-json.txt"))
        let exact = try ListingFixtures.exactSizes("podman")
        for row in rows {
            #expect(row.repository == "localhost/handson-fixture/edge")
            #expect(row.estimate?.isExact == true)
            #expect(row.estimate?.bytes == exact[row.tag ?? ""])
            #expect(row.imageID?.count == 64)
        }
    }

    @Test func allImagesWithNoneRowsGiveNulls() async throws {
        let rows = try ImageListingParser.parse(try ListingFixtures.text("docker-all.txt"))
        #expect(!rows.isEmpty)
        #expect(rows.allSatisfy { $0.estimate != nil })
        for row in rows where row.repository == nil { #expect(row.reference == nil) }
    }

    @Test func aSubsetOfColumnsInAnyOrderStillReads() async throws {
        let rows = try ImageListingParser.parse(try ListingFixtures.text("docker-format-subset.txt"))
        #expect(rows.count == (try ListingFixtures.exactSizes("docker")).count)
        #expect(rows.allSatisfy { $0.tag == nil && $0.repository == "handson-fixture/edge" && $0.imageID?.count == 12 })
    }

    @Test func aListingInsideAPastedTranscriptIsFound() async throws {
        let table = try ListingFixtures.text("docker-table.txt").split(separator: "\n")
        let header = try #require(table.first)
        let big = try #require(table.first { $0.contains("b1234567890") })
        let transcript = """
            My answer for the diet problem:

            ```
            $ docker image build -t go-image:base .
            Successfully tagged go-image:base
            $ docker image ls handson-fixture/edge:b1234567890
            \(header)
            \(big)
            $ curl http://localhost:9091/health
            {"status":"Healthy"}
            ```
            """
        let rows = try ImageListingParser.parse(transcript)
        #expect(rows.count == 1)
        #expect(rows.first?.reference == "handson-fixture/edge:b1234567890")
        #expect(rows.first?.size == "1.23GB")
        let estimate = try #require(rows.first?.estimate)
        #expect(
            (estimate.minimum...estimate.maximum).contains(try ListingFixtures.exactSizes("docker")["b1234567890"]!))
        #expect(rows.first?.line == 8, "line 7 is the header")
    }

    @Test func sizesShownAsNotAvailableGiveNulls() async throws {
        let rows = try ImageListingParser.parse(
            """
            REPOSITORY   TAG    IMAGE ID       CREATED       SIZE
            app          v1     0123456789ab   2 days ago    N/A
            app          v2     ba9876543210   2 days ago    5.5MB
            """)
        #expect(rows.count == 2)
        #expect(rows[0].size == "N/A" && rows[0].estimate == nil)
        #expect(rows[1].estimate?.bytes == 5_500_000)
    }

    @Test func jsonLinesWithoutVirtualSizeAsDocker29PrintsThem() async throws {
        let withVirtual = try ListingFixtures.text("docker-json-lines.txt")
        let without = try withVirtual.split(separator: "\n").map { line -> String in
            var object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            object["VirtualSize"] = nil
            return String(
                decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }.joined(separator: "\n")
        let rows = try ImageListingParser.parse(without)
        let exact = try ListingFixtures.exactSizes("docker")
        #expect(rows.count == exact.count)
        for row in rows {
            let estimate = try #require(row.estimate)
            #expect((estimate.minimum...estimate.maximum).contains(exact[row.tag!]!))
        }
    }

    @Test func bigImagesAndOldSpacedUnitsRead() async throws {
        let text = """
            REPOSITORY          TAG                 IMAGE ID            CREATED             VIRTUAL SIZE
            ubuntu              14.04               5506de2b643b        3 weeks ago         199.3 MB
            go-image            base                e9e77e06562e        10 seconds ago      1.23 GB
            """
        let rows = try ImageListingParser.parse(text)
        #expect(rows.map(\.size) == ["199.3 MB", "1.23 GB"])
        #expect(
            rows[1].estimate == ByteSizeEstimate(bytes: 1_230_000_000, minimum: 1_225_000_000, maximum: 1_235_000_000))
        #expect(rows[0].estimate?.minimum == 199_250_000)
    }

    /// docker v29's default tree view. No v29 client is on this machine to capture from, so this listing is written
    /// by hand in the format of docker/cli's own golden test files (sizes with a space, extra tags on lines of their
    /// own above the image's row, platform children, <untagged>, blank lines between images).
    @Test func dockerV29TreeViewReadsOneRowPerTagAndSkipsPlatforms() async throws {
        let text = """
            $ docker image ls
            IMAGE                ID             DISK USAGE   CONTENT SIZE   EXTRA
            go-image:v2
            go-image:base        e9e77e06562e       959 MB         402 MB   U
            └─ linux/amd64       1a2b3c4d5e6f       959 MB         402 MB   U

            <untagged>           0f0f0f0f0f0f      7.85 MB        3.44 MB
            ├─ linux/amd64       aaaaaaaaaaaa      3.93 MB        1.72 MB
            └─ linux/arm64       bbbbbbbbbbbb      3.92 MB        1.72 MB

            go-image:scratch     5d5d5d5d5d5d      7.85 MB        3.44 MB

            $ echo done
            """
        let rows = try ImageListingParser.parse(text)
        #expect(rows.map(\.reference) == ["go-image:v2", "go-image:base", nil, "go-image:scratch"])
        #expect(rows[0].imageID == "e9e77e06562e" && rows[1].imageID == "e9e77e06562e")
        #expect(rows[1].size == "959 MB")
        #expect(rows[2].estimate == ByteSizeEstimate(bytes: 7_850_000, minimum: 7_845_000, maximum: 7_855_000))
        #expect(rows[3].line == 11)
    }

    @Test func theDirectJSONWriterMatchesJSONEncoderExactly() async throws {
        for file in ["docker-all.txt", "podman-json.txt", "docker-format-subset.txt"] {
            var rows = try ImageListingParser.parse(try ListingFixtures.text(file))
            rows[0].repository = "quote\" back\\slash\ttab\u{01}ctl/slash é"
            #expect(ImageListingRow.jsonArray(rows) == (try JSONOutput.encode(rows)), "\(file)")
        }
    }

    @Test func windowsLineEndingsRead() async throws {
        let text = try ListingFixtures.text("docker-table.txt").replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try ImageListingParser.parse(text).count == (try ListingFixtures.exactSizes("docker")).count)
    }

    @Test func textThatIsNoListingNamesItsFirstLine() async {
        #expect(throws: ListingParseError(line: 2, text: "hello world")) {
            try ImageListingParser.parse("\nhello world\nsecond line\n")
        }
        let error = ListingParseError(line: 2, text: "hello world")
        #expect(error.message == Message(.listingParseError.line, ["line": "2", "text": "hello world"]))
        #expect(error.description == error.message.text())
    }

    @Test func garbledAndRandomInputNeverCrashes() async throws {
        let table = try ListingFixtures.text("docker-table.txt")
        var generator = SplitMix64(seed: 42)
        for round in 0..<3000 {
            if round % 200 == 0 { await Task.yield() }  // seconds of work: let the other tests on the shared pool run
            var bytes = Array(table.utf8)
            for _ in 0..<Int(generator.next() % 40) {
                let position = Int(generator.next() % UInt64(bytes.count))
                bytes[position] = UInt8(truncatingIfNeeded: generator.next())
            }
            let cut = Int(generator.next() % UInt64(bytes.count))
            _ = try? ImageListingParser.parse(String(decoding: bytes[..<cut], as: UTF8.self))
            let random = (0..<Int(generator.next() % 300)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = try? ImageListingParser.parse(String(decoding: random, as: UTF8.self))
        }
    }
}
