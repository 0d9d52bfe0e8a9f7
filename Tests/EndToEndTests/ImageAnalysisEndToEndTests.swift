import Foundation
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnProcesses
@testable import handson

/// An image built with known contents: a file added then deleted, one overwritten by a smaller one, a hard link and a
/// symbolic link to a file of a lower layer, a directory deleted and made again (opaque), an empty layer, and a
/// second stage's file copied in.
enum KnownContents {
    static let dockerfile = """
        FROM busybox AS extra
        RUN head -c 300000 /dev/zero > /extra.bin

        FROM busybox
        RUN head -c 4000000 /dev/zero > /big.bin
        RUN rm /big.bin
        RUN head -c 3000000 /dev/zero > /over.bin
        RUN head -c 1000000 /dev/zero > /over.bin
        RUN ln /over.bin /over-link && ln -s /over.bin /over-symlink
        RUN mkdir -p /tree/sub && head -c 500000 /dev/zero > /tree/sub/old.bin
        RUN rm -rf /tree && mkdir -p /tree && head -c 2000 /dev/zero > /tree/new.bin
        RUN true
        COPY --from=extra /extra.bin /extra.bin
        """

    /// What the analysis must find hidden: the path, its bytes, and that a later layer hid it. The `ln` of a lower
    /// layer's file copies it up on overlayfs, and the overlay differs (overlay2's, Podman's) put the copy in the new
    /// layer, hiding the old one (1MB wasted); the containerd store's differ compares contents and leaves it out.
    static func wasted(copyUpInLayer: Bool) -> [(path: String, bytes: Int64)] {
        [("/big.bin", 4_000_000), ("/over.bin", 3_000_000), ("/tree/sub/old.bin", 500_000)]
            + (copyUpInLayer ? [("/over.bin", 1_000_000)] : [])
    }

    /// Builds it on `engine` and analyses it; the scratchpad removes the image when it goes.
    static func analyze(
        on engine: ContainerEngine, as name: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (ImageSizeReport, EngineScratchpad) {
        _ = try await EndToEnd.prepareLab(on: engine)
        let scratchpad = EngineScratchpad(engine: engine)
        let tag = scratchpad.imageTag("known-contents")
        let build = try await build(on: engine, tag: tag)
        #expect(build.succeeded, "\(name): \(build.failureSummary)", sourceLocation: sourceLocation)
        return await (try engine.sizeReport(tag, store: engine.cachedInfo()?.store), scratchpad)
    }

    static func build(on engine: ContainerEngine, tag: String) async throws -> ProcessResult {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-known-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try dockerfile.write(toFile: "\(folder)/Dockerfile", atomically: true, encoding: .utf8)
        return try await engine.build(contextDirectory: folder, tag: tag, timeout: 300)
    }

    /// Checks an analysis of the image against what was put in it.
    static func expect(
        _ report: ImageSizeReport, on name: String, copyUpInLayer: Bool = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let wasted = wasted(copyUpInLayer: copyUpInLayer)
        for (path, bytes) in wasted {
            #expect(
                report.wasted.contains { $0.path == path && $0.bytes == bytes && $0.hiddenBy > $0.addedBy },
                "\(name): \(path) \(bytes) not among the wasted: \(report.wasted)", sourceLocation: sourceLocation)
        }
        #expect(
            report.wastedBytes == wasted.reduce(0) { $0 + $1.bytes }, "\(name): \(report.wasted)",
            sourceLocation: sourceLocation)
        let expectedEfficiency = 1 - Double(report.wastedBytes) / Double(report.sizeBytes)
        #expect(abs(report.efficiency - expectedEfficiency) < 0.0001, sourceLocation: sourceLocation)
        #expect(
            report.baseImage == "busybox", "\(name): \(String(describing: report.baseImage))",
            sourceLocation: sourceLocation)
        #expect(
            report.layers.first?.fromBase == true && report.layers.dropFirst().allSatisfy { !$0.fromBase },
            sourceLocation: sourceLocation)
        #expect(
            report.layers.contains { $0.instruction?.hasPrefix("RUN head -c 4000000") == true },
            "\(name): \(report.layers)",
            sourceLocation: sourceLocation)
        // `ln` on a lower layer's file copies it up: the layer holds it once, under whichever name its archive lists first.
        #expect(
            report.largest.contains { ["/over.bin", "/over-link"].contains($0.path) && $0.bytes == 1_000_000 },
            "\(name): \(report.largest)", sourceLocation: sourceLocation)
        #expect(
            report.largest.contains { $0.path == "/extra.bin" && $0.bytes == 300_000 }, sourceLocation: sourceLocation)
        #expect(
            !report.largest.contains { $0.path.hasPrefix("/big.bin") || $0.path.hasPrefix("/tree/sub") },
            "deleted paths are not in the final file system", sourceLocation: sourceLocation)
    }
}

extension KnownContents {
    /// Measures the known-contents image from its layer folders and from its archive and expects the same findings
    /// (where the folders are on this machine; `foldersExpected` says whether they must be).
    static func expectTheSameBothWays(
        _ tag: String, on engine: ContainerEngine, as name: String, foldersExpected: Bool,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let archive = try await engine.measureImage(tag, from: .archive)
        let folders: ImageSizeMeasurement
        do { folders = try await engine.measureImage(tag, from: .folders) } catch {
            #expect(!foldersExpected, "\(name): \(error)", sourceLocation: sourceLocation)
            return
        }
        #expect(folders.sizeBytes == archive.sizeBytes, "\(name)", sourceLocation: sourceLocation)
        #expect(
            folders.layers.map(\.fileBytes) == archive.layers.map(\.fileBytes), "\(name)",
            sourceLocation: sourceLocation)
        #expect(
            folders.layers.map(\.instruction) == archive.layers.map(\.instruction), "\(name)",
            sourceLocation: sourceLocation)
        #expect(folders.largest == archive.largest, "\(name)", sourceLocation: sourceLocation)
        #expect(
            folders.wasted == archive.wasted && folders.wastedBytes == archive.wastedBytes, "\(name)",
            sourceLocation: sourceLocation)
        #expect(folders.shallowPaths == archive.shallowPaths, "\(name)", sourceLocation: sourceLocation)
        #expect(folders.diffIDs == archive.diffIDs, "\(name)", sourceLocation: sourceLocation)
    }
}

extension GradingOnTheEngine {
    @Suite("Where an image's bytes are, on the real engine", .enabled(if: EndToEnd.isEnabled))
    struct ImageAnalysisEndToEndTests {
        @Test func anImageOfKnownContentsIsExplainedLayerByLayer() async throws {
            let engine = try await EndToEnd.engine()
            let (report, scratchpad) = try await KnownContents.analyze(on: engine, as: "default engine")
            let tag = report.image
            KnownContents.expect(report, on: "default engine")
            // The sums equal what the overlay2 store itself counts (a built layer's symbolic link is its only difference).
            let overlay2 = try await engine.imageSizeBytes(tag)
            #expect(
                abs(report.sizeBytes - overlay2) <= Int64("/over.bin".utf8.count),
                "measured \(report.sizeBytes), overlay2 \(overlay2)")
            // The text a person reads fits 100 columns.
            let lines = SizeTable(report: report, style: TextStyle(enabled: false)).lines(reference: tag)
            #expect(lines.allSatisfy { $0.count <= 100 }, "\(lines.filter { $0.count > 100 })")
            #expect(
                lines.contains { $0.hasPrefix("/big.bin") && $0.hasSuffix(" 4MB     2      3") },
                "\(lines.joined(separator: "\n"))")
            // Read from overlay2's layer folders, the findings are those of the archive.
            try await KnownContents.expectTheSameBothWays(tag, on: engine, as: "default engine", foldersExpected: true)
            withExtendedLifetime(scratchpad) {}  // the image goes with it, after the last look at it
        }

        /// A 900MB image is read in bounded memory: the peak RSS of `handson size golang:1.19` stays under 64MB.
        @Test func aLargeImageIsReadInBoundedMemory() async throws {
            let engine = try await EndToEnd.engine()
            _ = try await EndToEnd.prepareLab(on: engine)
            let cache = FileManager.default.temporaryDirectory.appendingPathComponent(
                "handson-size-cache-\(UUID().uuidString.prefix(8))"
            ).path
            defer { try? FileManager.default.removeItem(atPath: cache) }
            var environment = EndToEnd.environment
            environment["HANDSON_CACHE_DIR"] = cache
            environment["HANDSON_HOME"] = EndToEnd.repositoryRoot
            let binary = GradingOnTheEngine.BatchEndToEndTests.binary
            let run = try await EndToEnd.runner.run(
                ProcessRequest(
                    "/usr/bin/env", ["time", "-f", "peak-kb %M", binary, "size", "golang:1.19", "--json"],
                    environment: environment, timeout: 300, outputLimit: 8 << 20))
            #expect(run.succeeded, "\(run.failureSummary)")
            let peak = run.standardError.text.split(separator: "\n").last { $0.hasPrefix("peak-kb ") }.flatMap {
                Int($0.dropFirst(8))
            }
            let kilobytes = try #require(peak, "GNU time's report: \(run.standardError.text)")
            #expect(kilobytes < 64 * 1024, "peak RSS \(kilobytes) kB reading an 888MB image")
            let report = try JSONDecoder().decode(ImageSizeReport.self, from: run.standardOutput.data)
            #expect(report.sizeBytes > 500_000_000)
            #expect(report.largest.contains { $0.path.hasPrefix("/usr/lib/go-1.19") }, "\(report.largest)")
        }
    }
}

extension EngineMatrixTests {
    /// The same analysis on every engine: same wasted files, same base, same instructions found.
    @Test(arguments: EngineMatrix.memberNames)
    func theAnalysisIsTheSameOnEveryEngine(member name: String) async throws {
        let member = try #require(EngineMatrix.members.first { $0.name == name })
        let (report, scratchpad) = try await KnownContents.analyze(on: try member.engine(), as: name)
        let onContainerdStore = member.settings["DOCKER_HOST"] == EngineMatrix.containerdHost
        KnownContents.expect(report, on: name, copyUpInLayer: !onContainerdStore)
        // The layer folders (overlay2's, Podman's overlay, the containerd store's snapshots) give the archive's
        // findings.
        try await KnownContents.expectTheSameBothWays(
            report.image, on: try member.engine(), as: name, foldersExpected: true)
        withExtendedLifetime(scratchpad) {}
    }
}
