import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnFormats

/// One captured curl run (scripts/capture-curl-fixtures.sh, curl 7.88.1) and what it must read as.
struct CurlCase: CustomTestStringConvertible, Sendable {
    let file: String
    let status: Int?
    let exitCode: Int?
    let error: String?
    let body: String?
    let healthy: Bool?
    var testDescription: String { file }
}

private let healthyBody = #"{"status":"Healthy"}"#

@Suite("curl transcripts captured from real runs")
struct CurlTranscriptParserTests {
    static let cases: [CurlCase] = [
        CurlCase(file: "body-only", status: nil, exitCode: nil, error: nil, body: healthyBody, healthy: true),
        CurlCase(
            file: "write-out-after-body", status: 200, exitCode: nil, error: nil, body: healthyBody, healthy: true),
        CurlCase(file: "write-out-alone", status: 200, exitCode: nil, error: nil, body: nil, healthy: nil),
        CurlCase(file: "write-out-newline", status: 200, exitCode: nil, error: nil, body: healthyBody, healthy: true),
        CurlCase(file: "include-headers", status: 200, exitCode: nil, error: nil, body: healthyBody, healthy: true),
        CurlCase(file: "verbose", status: 200, exitCode: nil, error: nil, body: healthyBody, healthy: true),
        CurlCase(file: "progress-meter", status: nil, exitCode: nil, error: nil, body: healthyBody, healthy: true),
        CurlCase(
            file: "not-found", status: 404, exitCode: nil, error: "http error", body: "404 page not found",
            healthy: false),
        CurlCase(
            file: "unhealthy-body", status: nil, exitCode: nil, error: nil, body: #"{"status": "Unhealthy"}"#,
            healthy: false),
        CurlCase(
            file: "server-error", status: 500, exitCode: nil, error: "http error", body: "internal error",
            healthy: false),
        CurlCase(file: "server-error-fail", status: 500, exitCode: 22, error: "http error", body: nil, healthy: false),
        CurlCase(
            file: "server-error-fail-with-body", status: 503, exitCode: 22, error: "http error",
            body: #"{"status": "Unavailable"}"#, healthy: false),
        CurlCase(
            file: "unavailable", status: nil, exitCode: nil, error: nil, body: #"{"status": "Unavailable"}"#,
            healthy: false),
        CurlCase(file: "text-body", status: nil, exitCode: nil, error: nil, body: "OK", healthy: false),
        CurlCase(
            file: "connection-refused", status: nil, exitCode: 7, error: "connection refused", body: nil, healthy: false
        ),
        CurlCase(file: "connection-refused-write-out", status: 0, exitCode: nil, error: nil, body: nil, healthy: false),
        CurlCase(
            file: "connection-refused-verbose", status: nil, exitCode: 7, error: "connection refused", body: nil,
            healthy: false),
        CurlCase(
            file: "connection-refused-progress", status: nil, exitCode: 7, error: "connection refused", body: nil,
            healthy: false),
        CurlCase(
            file: "could-not-resolve", status: nil, exitCode: 6, error: "could not resolve host", body: nil,
            healthy: false),
        CurlCase(file: "empty-reply", status: nil, exitCode: 52, error: "empty reply", body: nil, healthy: false),
        CurlCase(
            file: "connection-reset", status: nil, exitCode: 56, error: "connection reset", body: nil, healthy: false),
        CurlCase(file: "timeout", status: nil, exitCode: 28, error: "timeout", body: nil, healthy: false),
        CurlCase(file: "timeout-write-out", status: 0, exitCode: 28, error: "timeout", body: nil, healthy: false),
    ]

    static func fixture(_ name: String) throws -> String {
        try String(contentsOfFile: ListingFixtures.directory + "/../curl/\(name).txt", encoding: .utf8)
    }

    @Test(arguments: cases)
    func readsWhatTheTerminalShowed(_ expected: CurlCase) async throws {
        let transcript = CurlTranscriptParser.parse(try Self.fixture(expected.file))
        #expect(transcript.httpStatus == expected.status)
        #expect(transcript.curlExitCode == expected.exitCode)
        #expect(transcript.error == expected.error)
        #expect(transcript.body == expected.body)
        #expect(transcript.healthy == expected.healthy)
    }

    @Test func headersFromIncludeAndVerboseAreReadWithoutCR() async throws {
        for file in ["include-headers", "verbose"] {
            let headers = try #require(CurlTranscriptParser.parse(try Self.fixture(file)).headers)
            #expect(headers["Content-Type"] == "application/json")
            #expect(headers["Content-Length"] == "21")
            #expect(headers["Host"] == nil, "request headers (> lines) are not response headers")
        }
        #expect(CurlTranscriptParser.parse(try Self.fixture("body-only")).headers == nil)
    }

    @Test func theProgressMeterIsRemovedEvenWhenGluedToAVerboseLine() async {
        let glued =
            "\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0*   Trying 127.0.0.1:1..."
        #expect(CurlTranscriptParser.cleaned(glued) == "*   Trying 127.0.0.1:1...")
        #expect(
            CurlTranscriptParser.cleaned(
                "100    21  100    21    0     0  41832      0 --:--:-- --:--:-- --:--:-- 21000") == nil)
        #expect(CurlTranscriptParser.cleaned("{\"status\":\"Healthy\"}") == "{\"status\":\"Healthy\"}")
    }

    @Test func garbledAndRandomInputNeverCrashes() async throws {
        var generator = SplitMix64(seed: 7)
        let sources = try Self.cases.map { try Self.fixture($0.file) }
        for round in 0..<3000 {
            if round % 200 == 0 { await Task.yield() }  // seconds of work: let the other tests on the shared pool run
            var bytes = Array(sources[round % sources.count].utf8)
            for _ in 0..<Int(generator.next() % 20) where !bytes.isEmpty {
                bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
            }
            _ = CurlTranscriptParser.parse(String(decoding: bytes, as: UTF8.self))
            let random = (0..<Int(generator.next() % 200)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = CurlTranscriptParser.parse(String(decoding: random, as: UTF8.self))
        }
    }
}
