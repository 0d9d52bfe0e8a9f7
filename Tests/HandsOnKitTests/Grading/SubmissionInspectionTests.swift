import Foundation
import HandsOnMessages
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

@Suite("Answers that cannot be graded say why before anything is built")
struct SubmissionInspectionTests {
    func folder(_ files: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("handson-answer-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: "\(root)/\(name)", atomically: true, encoding: .utf8) }
        return root
    }

    /// What stops the folder, nil when it can be built.
    func problem(in directory: String, limit: Int64 = 1_000_000) -> SubmissionInspection.Problem? {
        if case .failure(let problem) = SubmissionInspection.inspect(directory, dockerfile: "Dockerfile", limit: limit)
        {
            return problem
        }
        return nil
    }

    @Test func aGoodAnswerHasNoProblemAndItsDockerfileIsRead() async throws {
        let answer = try folder([
            "Dockerfile": "FROM golang:1.19 AS build\nRUN true\nFROM scratch\nCOPY hash /hash\n", "hash": "x",
        ])
        defer { try? FileManager.default.removeItem(atPath: answer) }
        let facts = try SubmissionInspection.inspect(answer, dockerfile: "Dockerfile", limit: 1_000_000).get()
        #expect(facts.stageCount == 2)
        #expect(facts.finalBase == "scratch")
    }

    @Test func eachProblemIsNamed() async throws {
        let none = try folder(["hash.go": "package main"])
        let broken = try folder(["Dockerfile": "FORM scratch\n"])
        let escaping = try folder(["Dockerfile": "FROM scratch\n"])
        try FileManager.default.createSymbolicLink(atPath: "\(escaping)/secrets", withDestinationPath: "/etc/shadow")
        let inside = try folder(["Dockerfile": "FROM scratch\n", "a.txt": "a"])
        try FileManager.default.createSymbolicLink(atPath: "\(inside)/b.txt", withDestinationPath: "a.txt")
        let big = try folder(["Dockerfile": "FROM scratch\n", "blob": String(repeating: "x", count: 5000)])
        defer {
            for path in [none, broken, escaping, inside, big] { try? FileManager.default.removeItem(atPath: path) }
        }

        #expect(problem(in: none)?.reason == Message(.grader.dockerfileSubmission, ["dockerfile": "Dockerfile"]))
        let unknown = Message(
            .dockerfile.line, ["line": "1"], then: [Message(.dockerfile.unknownInstruction, ["keyword": "FORM"])])
        #expect(
            problem(in: broken)?.reason
                == Message(.grader.dockerfileCannotReadError, ["dockerfile": "Dockerfile"], then: [unknown]))
        #expect(
            problem(in: escaping)?.reason
                == Message(.grader.pathSymbolicLinkPointing, ["path": "secrets", "destination": "/etc/shadow"]))
        #expect(problem(in: inside) == nil, "links inside are fine")
        #expect(problem(in: big, limit: 1000)?.id == "context-size")
        #expect(problem(in: "/nonexistent/answer", limit: 1000)?.id == "submission")
    }
}

extension SubmissionInspection.Problem: Equatable {
    public static func == (left: Self, right: Self) -> Bool {
        left.id == right.id && left.reason == right.reason
    }
}
