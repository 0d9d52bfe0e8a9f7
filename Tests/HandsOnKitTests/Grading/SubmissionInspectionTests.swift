import Foundation
import Testing
@testable import HandsOnKit

@Suite("Answers that cannot be graded say why before anything is built")
struct SubmissionInspectionTests {
    func folder(_ files: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("handson-answer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: "\(root)/\(name)", atomically: true, encoding: .utf8) }
        return root
    }

    @Test func aGoodAnswerHasNoProblem() throws {
        let answer = try folder(["Dockerfile": "FROM scratch\nCOPY hash /hash\n", "hash": "x"])
        defer { try? FileManager.default.removeItem(atPath: answer) }
        #expect(SubmissionInspection.problem(in: answer, dockerfile: "Dockerfile", limit: 1_000_000) == nil)
    }

    @Test func eachProblemIsNamed() throws {
        let none = try folder(["hash.go": "package main"])
        let broken = try folder(["Dockerfile": "FORM scratch\n"])
        let escaping = try folder(["Dockerfile": "FROM scratch\n"])
        try FileManager.default.createSymbolicLink(atPath: "\(escaping)/secrets", withDestinationPath: "/etc/shadow")
        let inside = try folder(["Dockerfile": "FROM scratch\n", "a.txt": "a"])
        try FileManager.default.createSymbolicLink(atPath: "\(inside)/b.txt", withDestinationPath: "a.txt")
        let big = try folder(["Dockerfile": "FROM scratch\n", "blob": String(repeating: "x", count: 5000)])
        defer { for path in [none, broken, escaping, inside, big] { try? FileManager.default.removeItem(atPath: path) } }

        #expect(SubmissionInspection.problem(in: none, dockerfile: "Dockerfile", limit: 1_000_000)?.message == "no Dockerfile in the submission")
        #expect(SubmissionInspection.problem(in: broken, dockerfile: "Dockerfile", limit: 1_000_000)?.message
                == "Dockerfile cannot be read: Dockerfile line 1: unknown instruction 'FORM'")
        #expect(SubmissionInspection.problem(in: escaping, dockerfile: "Dockerfile", limit: 1_000_000)?.message
                == "secrets is a symbolic link pointing out of the submission (/etc/shadow)")
        #expect(SubmissionInspection.problem(in: inside, dockerfile: "Dockerfile", limit: 1_000_000) == nil, "links inside are fine")
        #expect(SubmissionInspection.problem(in: big, dockerfile: "Dockerfile", limit: 1000)?.id == "context-size")
        #expect(SubmissionInspection.problem(in: "/nonexistent/answer", dockerfile: "Dockerfile", limit: 1000)?.id == "submission")
    }
}

extension SubmissionInspection.Problem: Equatable {
    public static func == (left: Self, right: Self) -> Bool { left.id == right.id && left.message == right.message }
}
