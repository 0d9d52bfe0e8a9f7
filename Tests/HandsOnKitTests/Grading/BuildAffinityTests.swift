import Foundation
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

@Suite("Which answers share a build (BuildAffinity)")
struct BuildAffinityTests {
    static let builder = """
        FROM golang:1.19 AS builder
        WORKDIR /src
        COPY hash.go .
        RUN CGO_ENABLED=0 go build -o /hash hash.go

        """

    /// An answer folder with `Dockerfile` and `hash.go`.
    static func answer(_ dockerfile: String, hashGo: String = "package main\n", extra: [String: String] = [:])
        throws -> String
    {
        let folder = NSTemporaryDirectory() + "handson-affinity-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, text) in ["Dockerfile": dockerfile, "hash.go": hashGo].merging(extra, uniquingKeysWith: { $1 }) {
            let path = "\(folder)/\(name)"
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return folder
    }

    @Test func answersThatDifferOnlyAfterTheFirstStageShareIt() throws {
        let scratch = try Self.answer(Self.builder + "FROM scratch\nCOPY --from=builder /hash /hash\n")
        let distroless = try Self.answer(
            Self.builder.replacingOccurrences(of: "AS builder", with: "AS build")
                + "FROM gcr.io/distroless/base-debian12\nCOPY --from=build /hash /hash\nENTRYPOINT [\"/hash\"]\n")
        let edited = try Self.answer(Self.builder + "FROM scratch\nCOPY --from=builder /hash /hash\n", hashGo: "x\n")
        let otherCommand = try Self.answer(
            Self.builder.replacingOccurrences(of: "CGO_ENABLED=0 ", with: "") + "FROM scratch\n")
        let notes = try Self.answer(Self.builder + "FROM scratch\n", extra: ["NOTES.md": "mine\n"])
        let unreadable = try Self.answer("RUN echo no base\n")
        defer {
            for folder in [scratch, distroless, edited, otherCommand, notes, unreadable] {
                try? FileManager.default.removeItem(atPath: folder)
            }
        }
        let key = try #require(BuildAffinity.key(ofAnswerIn: scratch))
        #expect(BuildAffinity.key(ofAnswerIn: distroless) == key, "the stage's name and the final stage aside")
        #expect(BuildAffinity.key(ofAnswerIn: edited) != key, "a copied file differs")
        #expect(BuildAffinity.key(ofAnswerIn: otherCommand) != key, "a step differs")
        #expect(BuildAffinity.key(ofAnswerIn: notes) != key, "another file in the context")
        #expect(BuildAffinity.key(ofAnswerIn: unreadable) == nil)
    }

    @Test func theDockerfileItselfIsLeftOutWhereverItIs() throws {
        let dockerfile = Self.builder + "FROM scratch\n"
        let first = try Self.answer("", extra: ["build/Dockerfile": dockerfile, "build/other": "same\n"])
        let second = try Self.answer(
            "", extra: ["build/Dockerfile": dockerfile + "COPY --from=builder /hash /x\n", "build/other": "same\n"])
        let third = try Self.answer(
            "", extra: ["build/Dockerfile": dockerfile, "build/other": "changed\n"])
        defer { for folder in [first, second, third] { try? FileManager.default.removeItem(atPath: folder) } }
        let key = try #require(BuildAffinity.key(ofAnswerIn: first, dockerfile: "build/Dockerfile"))
        #expect(BuildAffinity.key(ofAnswerIn: second, dockerfile: "build/Dockerfile") == key)
        #expect(BuildAffinity.key(ofAnswerIn: third, dockerfile: "build/Dockerfile") != key, "only the Dockerfile")
    }

    @Test func aFolderHashCanLeaveOutPathsWithAllTheyHold() throws {
        let folder = try Self.answer("FROM scratch\n", extra: ["sub/a": "1\n"])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let without = FolderContentHash.of(folder, excluding: ["sub"])
        try "2\n".write(toFile: "\(folder)/sub/a", atomically: true, encoding: .utf8)
        #expect(FolderContentHash.of(folder, excluding: ["sub"]) == without)
        #expect(FolderContentHash.of(folder, excluding: ["su"]) != without, "a path, not a prefix of a name")
    }
}
