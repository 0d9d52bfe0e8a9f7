import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnFormats
@testable import HandsOnProcesses

@Suite("Image references, Debian mirrors, captured output")
struct LabSupportTests {
    @Test(arguments: [
        ("go-image:base", "localhost/go-image:base"),
        ("go-image:base", "docker.io/library/go-image:base"),
        ("busybox", "busybox:latest"),
        ("busybox", "docker.io/library/busybox:latest"),
        ("gcr.io/distroless/static-debian12", "gcr.io/distroless/static-debian12:latest"),
        ("localhost:5000/team/app:1", "localhost:5000/team/app:1"),
    ])
    func referencesMatchAcrossEngines(left: String, right: String) {
        #expect(ImageReference(left) == ImageReference(right))
    }

    @Test func differentTagsDoNotMatch() async {
        #expect(ImageReference("go-image:base") != ImageReference("go-image:scratch"))
        #expect(ImageReference("localhost:5000/app").tag == "latest")
    }

    @Test func qualifiedNamesAreThoseEnginesStore() async {
        #expect(ImageReference("golang:1.19").qualified == "docker.io/library/golang:1.19")
        #expect(
            ImageReference("gcr.io/distroless/static-debian12:nonroot").qualified
                == "gcr.io/distroless/static-debian12:nonroot")
        #expect(ImageReference("team/app").qualified == "docker.io/team/app:latest")
    }

    @Test func mirrorFromDeb822SkipsSecurityAndForeignSuites() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("handson-apt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: dir.path + "/sources.list.d", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "deb https://example.invalid/apt cloud-sdk-bookworm main\n".write(
            toFile: dir.path + "/sources.list", atomically: true, encoding: .utf8)
        try """
        Types: deb
        URIs: http://mirror.example.invalid/debian-security
        Suites: bookworm-security
        Components: main

        Types: deb
        # a comment
        URIs: http://mirror.example.invalid/debian
        Suites: bookworm bookworm-updates
        Components: main
        """.write(toFile: dir.path + "/sources.list.d/debian.sources", atomically: true, encoding: .utf8)
        #expect(DebianMirror.detect(environment: [:], aptDirectory: dir.path) == "http://mirror.example.invalid/debian")
        #expect(
            DebianMirror.detect(
                environment: ["HANDSON_DEBIAN_MIRROR": "http://other.invalid/d"], aptDirectory: dir.path)
                == "http://other.invalid/d")
    }

    @Test func mirrorFromOneLineFormatWithOptions() async {
        #expect(
            DebianMirror.fromOneLineFormat("deb [arch=amd64 signed-by=/k.gpg] http://m.invalid/debian bookworm main\n")
                == "http://m.invalid/debian")
        #expect(DebianMirror.fromOneLineFormat("deb http://m.invalid/debian-security bookworm-security main\n") == nil)
    }

    @Test func capturedOutputKeepsHeadAndTailWithinItsLimit() async {
        var output = CapturedOutput(limit: 10)
        output.append(Data("0123456789".utf8))
        output.append(Data("abcdefghij".utf8))
        #expect(output.totalBytes == 20)
        #expect(output.head == Data("01234".utf8))
        #expect(output.tail == Data("fghij".utf8))
        #expect(output.text == "01234\n[... 10 bytes not kept ...]\nfghij")
        #expect(output.isTruncated)
    }

    @Test func aFloodDoesNotGrowWhatIsKept() async {
        var output = CapturedOutput(limit: 256 * 1024)
        let chunk = Data(repeating: UInt8(ascii: "f"), count: 65536)
        for _ in 0..<2000 { output.append(chunk) }  // 131 MB through a 256 KiB cap
        #expect(output.totalBytes == 2000 * 65536)
        #expect(output.head.count + output.tail.count == 256 * 1024)
        #expect(output.retainedCapacity < 4 * 256 * 1024, "retained \(output.retainedCapacity) bytes")
    }

    @Test func displayFormattingMatchesDockerForTheCourseFigures() async {
        #expect(ByteFormatting.decimal(958_999_999) == "959MB")
        #expect(ByteFormatting.decimal(27_100_000) == "27.1MB")
        #expect(ByteFormatting.decimal(7_850_000) == "7.85MB")
        #expect(ByteFormatting.decimal(10_000_000) == "10MB")
        #expect(ByteFormatting.decimal(999) == "999B")
    }
}
