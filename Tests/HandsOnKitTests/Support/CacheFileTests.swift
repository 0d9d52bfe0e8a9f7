import Foundation
import Testing

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
}
