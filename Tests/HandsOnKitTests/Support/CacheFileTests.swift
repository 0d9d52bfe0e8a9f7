import Foundation
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

@Suite("A cache's file written whole")
struct CacheFileTests {
    @Test func aFileIsReplacedWholeAndNothingElseIsLeftInItsFolder() throws {
        let folder = NSTemporaryDirectory() + "handson-cache-file-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/a.v3.json"
        #expect(CacheFile.replace(path, with: Data("first".utf8)))
        #expect(CacheFile.replace(path, with: Data("second, longer".utf8)))
        #expect(FileManager.default.contents(atPath: path) == Data("second, longer".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["a.v3.json"])
    }

    @Test func aFolderThatIsNotThereIsAFailureNotACrash() {
        let path = NSTemporaryDirectory() + "handson-no-such-folder-\(UUID().uuidString.prefix(8))/a.json"
        #expect(!CacheFile.replace(path, with: Data("x".utf8)))
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aFileThatCannotTakeItsPlaceLeavesTheFolderAsItWas() throws {
        let folder = NSTemporaryDirectory() + "handson-cache-file-\(UUID().uuidString.prefix(8))"
        // The place is a folder with a file in it: the rename fails after the bytes were written.
        try FileManager.default.createDirectory(atPath: "\(folder)/a.v3.json", withIntermediateDirectories: true)
        try Data("kept".utf8).write(to: URL(fileURLWithPath: "\(folder)/a.v3.json/inside"))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(!CacheFile.replace("\(folder)/a.v3.json", with: Data("new".utf8)))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["a.v3.json"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(folder)/a.v3.json") == ["inside"])
    }

    /// What a writer killed mid-way left goes once it is old; a file being written now stays, and neither counts
    /// among the files kept.
    @Test func aKilledWritersFileGoesWhenItIsOld() throws {
        let folder = NSTemporaryDirectory() + "handson-cache-file-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let old = "\(folder)/.a.v3.json.41.7.tmp"
        let fresh = "\(folder)/.b.v3.json.42.9.tmp"
        for path in [old, fresh, "\(folder)/c.v3.json"] { try Data("x".utf8).write(to: URL(fileURLWithPath: path)) }
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: old)
        NewestFiles.keep(1, in: folder) { $0.hasSuffix(".json") }
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == [
                ".b.v3.json.42.9.tmp", "c.v3.json",
            ])
    }
}
