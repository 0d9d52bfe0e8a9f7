import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

/// Secrets, setuid files, shells and the user, found the same way in a layer's folder and in its tar.
@Suite("The security audit")
struct SecurityAuditTests {
    static let key =
        "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5OiBhIG1hZGUtdXAgZmlsZSBmb3IgdGhlIEhhbmRzT24gdGVzdHM=\n"
        + "-----END OPENSSH PRIVATE KEY-----\n"

    /// A layer with a deploy key, an `.env`, a key hidden under an innocent name, a setuid program, a key under a
    /// system folder (marked there too: whether it is the base image's own is the audit's to tell) and an ordinary
    /// file.
    static func layerFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "handson-audit-\(UUID().uuidString.prefix(8))"
        let tree = "\(folder)/tree"
        for path in ["app/deploy", "usr/bin", "usr/share/go/testdata"] {
            try FileManager.default.createDirectory(atPath: "\(tree)/\(path)", withIntermediateDirectories: true)
        }
        try Data(key.utf8).write(to: URL(fileURLWithPath: "\(tree)/app/deploy/id_ed25519"))
        try Data("API_TOKEN=x\n".utf8).write(to: URL(fileURLWithPath: "\(tree)/app/.env"))
        try Data(("notes\n" + key).utf8).write(to: URL(fileURLWithPath: "\(tree)/app/notes.txt"))
        try Data(key.utf8).write(to: URL(fileURLWithPath: "\(tree)/usr/share/go/testdata/test.key"))
        try Data(count: 100).write(to: URL(fileURLWithPath: "\(tree)/usr/bin/su"))
        #expect(chmod("\(tree)/usr/bin/su", 0o4755) == 0)
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: "\(tree)/app/README"))
        return folder
    }

    static let expectedMarks = [
        LayerMark(path: "app/.env", kind: .secretName, detail: ".env"),
        LayerMark(path: "app/deploy/id_ed25519", kind: .secretName, detail: "id_ed25519"),
        LayerMark(path: "usr/bin/su", kind: .setuid, detail: "4755"),
        LayerMark(path: "usr/share/go/testdata/test.key", kind: .secretName, detail: "*.key"),
    ]

    @Test func theFolderAndItsTarGiveTheSameMarks() async throws {
        let folder = try Self.layerFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fromFolder = try LayerFolder.count("\(folder)/tree")
        #expect(fromFolder.marks.sorted(by: Self.order) == Self.expectedMarks)
        for format in ["gnu", "pax"] {
            let bytes = try await ArchiveMaker.tar(folder, format: format)
            var reader = try LayerStreamReader(compression: .none)
            try feedInChunks(bytes, chunk: 333) { try reader.feed($0) }
            #expect(try reader.finish().marks.sorted(by: Self.order) == Self.expectedMarks, "\(format)")
        }
    }

    static func order(_ a: LayerMark, _ b: LayerMark) -> Bool {
        (a.path, a.kind.rawValue) < (b.path, b.kind.rawValue)
    }

    @Test func theAnswersFilesAreReadForWhatTheyHold() throws {
        let folder = try Self.layerFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let found = LayerFolderFiles(folders: ["\(folder)/tree"]).scan(layer: 0, with: FileContentScanner())
        let keys = found.filter { $0.patterns.contains { $0.kind == "privateKey" } }.map(\.path).sorted()
        #expect(keys == ["app/deploy/id_ed25519", "app/notes.txt", "usr/share/go/testdata/test.key"])
        #expect(found.contains { $0.path == "app/.env" } == false, "API_TOKEN=x is too short to be a token")
    }
}

/// A chapter graded by its security findings: the tiers read the count, the same syntax as size tiers.
@Suite("Grading by findings")
struct FindingTierTests {
    @Test func theSecureImageChapterScoresByTheNumberOfFindings() throws {
        let chapter = try ChapterLoader.load(
            id: "secure-image", chaptersDirectory: CourseChaptersTests.chaptersDirectory)
        let grading = try #require(chapter.grading)
        #expect(grading.measure == .securityFindings)
        #expect([0, 1, 5, 6, 20, 21].map { grading.score(findings: $0) } == [100, 70, 70, 50, 50, 0])
        #expect([1, 5, 6, 20, 21].map { grading.score(findings: $0, secrets: 1) } == [40, 40, 40, 40, 0])
        #expect(grading.examples.map(\.score).sorted() == [0, 40, 50, 70, 100], "each step its own gain")
    }

    @Test func gradingByFindingsWithoutTheirTiersIsRefused() throws {
        let folder = try ChapterFolder.valid([
            (
                "\"grading\": {\"tiers\": [{\"maxBytes\": 10000000, \"score\": 100}]",
                "\"grading\": {\"measure\": \"securityFindings\""
            )
        ])
        defer { folder.remove() }
        #expect(throws: ChapterError.self) { try ChapterLoader.load(from: folder.directory) }
    }
}
