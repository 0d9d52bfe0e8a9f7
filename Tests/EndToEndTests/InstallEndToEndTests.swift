import Foundation
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnProcesses

@Suite("make install and make uninstall", .enabled(if: EndToEnd.isEnabled))
struct InstallEndToEndTests {
    static func make(_ arguments: [String]) async throws -> ProcessResult {
        var environment = EndToEnd.environment
        environment["HANDSON_HOME"] = nil
        return try await EndToEnd.runner.run(
            ProcessRequest(
                "make", ["-C", EndToEnd.repositoryRoot] + arguments, environment: environment,
                timeout: 900))
    }

    /// Installed under a new prefix, the binary finds the course from any folder with no variable set; uninstalled,
    /// nothing of it is left, not even the folders the install made.
    @Test func theInstalledBinaryWorksFromAnywhereAndUninstallRemovesExactlyIt() async throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-install-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: "\(parent)/bin", withIntermediateDirectories: true)
        try "mine\n".write(toFile: "\(parent)/bin/other-tool", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let install = try await Self.make(["install", "PREFIX=\(parent)"])
        #expect(install.succeeded, "\(install.stderr)")

        var environment = ["PATH": "/usr/bin:/bin", "HOME": parent]
        environment["HANDSON_HOME"] = nil
        let chapters = try await EndToEnd.runner.run(
            ProcessRequest(
                "\(parent)/bin/handson", ["chapters"], environment: environment,
                workingDirectory: "/"))
        #expect(chapters.succeeded, "\(chapters.stderr)")
        #expect(chapters.stdout.contains("optimize-image"))
        let completion = try await EndToEnd.runner.run(
            ProcessRequest(
                "\(parent)/bin/handson", ["completion", "bash"], environment: environment,
                workingDirectory: "/"))
        #expect(
            completion.stdout.contains("ictsc-diet"), "the installed binary completes the installed course's chapters")

        let uninstall = try await Self.make(["uninstall", "PREFIX=\(parent)"])
        #expect(uninstall.succeeded, "\(uninstall.stderr)")
        let left = (FileManager.default.subpaths(atPath: parent) ?? []).sorted()
        #expect(left == ["bin", "bin/other-tool"], "only what was there before: \(left)")
        let again = try await Self.make(["uninstall", "PREFIX=\(parent)"])
        #expect(!again.succeeded && again.stdout.contains("nothing installed"), "\(again.stdout)")
    }
}
