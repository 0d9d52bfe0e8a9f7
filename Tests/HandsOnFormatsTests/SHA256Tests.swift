import Foundation
import Testing

@testable import HandsOnFormats
@testable import HandsOnProcesses

@Suite("SHA-256")
struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        ("hello", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
    ])
    func standardVectors(input: String, digest: String) {
        #expect(SHA256.hex(Data(input.utf8)) == digest)
    }

    @Test func agreesWithSha256sumOnEveryLengthAroundTheBlockEdgesAndOnAFile() async throws {
        let runner = SystemProcessRunner()
        for length in [55, 56, 57, 63, 64, 65, 119, 120, 128, 1000] {
            let data = Data((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
            let expected = try await runner.run(ProcessRequest("sha256sum", standardInput: .bytes(data))).stdout.prefix(
                64)
            #expect(SHA256.hex(data) == String(expected), "length \(length)")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("handson-sha-\(UUID().uuidString)")
        try Data(repeating: 0x61, count: 3 << 20 | 17).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let expected = try await runner.run(ProcessRequest("sha256sum", [file.path])).stdout.prefix(64)
        #expect(SHA256.hex(ofFile: file.path) == String(expected))
        #expect(SHA256.hex(ofFile: "/nonexistent/file") == nil)
    }
}
