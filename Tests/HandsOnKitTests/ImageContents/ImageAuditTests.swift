import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnProcesses

@Suite("The security audit: users, archives, programs, findings")
struct ImageAuditTests {
    static let passwd = """
        root:x:0:0:root:/root:/sbin/nologin
        toor:x:0:0:an alias of root:/root:/sbin/nologin
        nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
        """

    /// `User` as written, the image's `/etc/passwd` (or none), and the uid the runtime would run.
    @Test(
        arguments: [
            ("", nil, 0), ("root", passwd, 0), ("0", nil, 0), ("0000", nil, 0), ("+0", nil, 0), ("00:00", nil, 0),
            ("toor", passwd, 0), ("toor:nonroot", passwd, 0), ("0:65532", nil, 0), ("nonroot", passwd, 65532),
            ("65532", nil, 65532), ("065532:0", nil, 65532), ("app:0", passwd, nil), ("root", nil, nil),
            ("0", "0:x:1000:1000::/:/bin/false", 0),
        ] as [(String, String?, Int?)])
    func theUserIsResolvedAsTheRuntimeResolvesIt(user: String, passwd: String?, uid: Int?) {
        #expect(ImageUser(configured: user, passwd: passwd).uid == uid)
    }

    @Test func aRunningProcessShownAsRootIsRoot() {
        #expect(AuditedImage.isRootUser("0") && AuditedImage.isRootUser("root") && AuditedImage.isRootUser("000"))
        #expect(!AuditedImage.isRootUser("65532") && !AuditedImage.isRootUser("nonroot"))
    }

    static let token = "ghp_R2d4Xk9vQpL7mN3sT8wZ1yB6cF0hJ5gA2eUi"

    /// A folder with a token in a file, to be packed in every archive kind.
    static func packed() async throws -> (folder: String, archives: [String: [UInt8]]) {
        let folder = NSTemporaryDirectory() + "handson-nested-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: "\(folder)/in/conf", withIntermediateDirectories: true)
        try Data("deploy_token: \(token)\n".utf8).write(to: URL(fileURLWithPath: "\(folder)/in/conf/settings.yml"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(folder)/in/id_rsa"))
        let runner = SystemProcessRunner()
        func run(_ program: String, _ arguments: [String], in directory: String) async throws {
            let result = try await runner.run(ProcessRequest(program, arguments, workingDirectory: directory))
            #expect(result.succeeded, "\(result.failureSummary)")
        }
        try await run("tar", ["-czf", "../bundle.tgz", "."], in: "\(folder)/in")
        try await run("tar", ["-cf", "../bundle.tar", "."], in: "\(folder)/in")
        try await run("zip", ["-qr", "../bundle.jar", "."], in: "\(folder)/in")
        try await run("cp", ["conf/settings.yml", "../settings.yml"], in: "\(folder)/in")
        try await run("gzip", ["-n", "../settings.yml"], in: "\(folder)/in")
        // An archive in an archive: the tgz inside a zip.
        try await run("zip", ["-q", "nested.zip", "bundle.tgz"], in: folder)
        var archives: [String: [UInt8]] = [:]
        for name in ["bundle.tgz", "bundle.tar", "bundle.jar", "settings.yml.gz", "nested.zip"] {
            archives[name] = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name)")))
        }
        return (folder, archives)
    }

    @Test func archivesAreReadWhateverTheyAreNamed() async throws {
        let (folder, archives) = try await Self.packed()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (name, bytes) in archives {
            // Renamed: what an archive is, is told by its bytes.
            let found = bytes.withUnsafeBytes { FileContentScanner().scan(path: "srv/data-\(name).bin", bytes: $0) }
            let tokens = found.filter { $0.patterns.contains { $0.id == "github-token" } }
            #expect(tokens.count == 1, "\(name): \(found.map(\.path))")
            #expect(tokens.first?.path.hasPrefix("srv/data-\(name).bin!") == true, "\(name)")
            if name != "settings.yml.gz" {
                #expect(found.contains { $0.marks.contains { $0.kind == .secretName } }, "id_rsa inside \(name)")
            }
        }
    }

    /// What the audit cannot open (another compression, a zip entry packed another way, archives past their bounds)
    /// is said, not passed over: what it holds is unknown.
    @Test func anArchiveNotReadToItsEndIsSaid() async throws {
        let (folder, archives) = try await Self.packed()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let runner = SystemProcessRunner()
        for (program, arguments, name) in [
            ("xz", ["-k", "bundle.tar"], "bundle.tar.xz"), ("bzip2", ["-k", "bundle.tar"], "bundle.tar.bz2"),
            ("zip", ["-q", "-Z", "bzip2", "packed.zip", "bundle.tar"], "packed.zip"),
        ] {
            let made = try await runner.run(ProcessRequest(program, arguments, workingDirectory: folder))
            try #require(made.succeeded, "\(made.failureSummary)")
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name)")))
            let found = bytes.withUnsafeBytes { FileContentScanner().scan(path: "srv/\(name)", bytes: $0) }
            #expect(found.contains { $0.unread != nil }, "\(name): \(found)")
        }
        var small = FileContentScanner()
        small.maxUnpackedBytes = 100
        let tgz = try #require(archives["bundle.tgz"])
        let cut = tgz.withUnsafeBytes { small.scan(path: "srv/bundle.tgz", bytes: $0) }
        #expect(cut.first { $0.path == "srv/bundle.tgz" }?.unread == "unpacked-limit")
        var shallow = FileContentScanner()
        shallow.maxDepth = 1
        let nested = try #require(archives["nested.zip"])
        let deep = nested.withUnsafeBytes { shallow.scan(path: "srv/nested.zip", bytes: $0) }
        #expect(deep.contains { $0.unread == "depth" }, "\(deep)")
        let plain = Array("BZh9 is how this note starts, no archive\n".utf8)
        #expect(plain.withUnsafeBytes { FileContentScanner().scan(path: "notes.txt", bytes: $0) }.isEmpty)
    }

    @Test func anArchiveUnpacksNoMoreThanItsBudget() throws {
        // 64 MiB of zeros compress to a few dozen KiB: the scan stops at its budget and says what it found so far.
        var zeros = [UInt8](repeating: 0, count: 64 << 20)
        zeros.replaceSubrange(0..<Self.token.utf8.count, with: Array(Self.token.utf8))
        var scanner = FileContentScanner()
        scanner.maxUnpackedBytes = 1 << 20
        var budget = scanner.maxUnpackedBytes
        let inflated = zeros.withUnsafeBytes { NestedArchive.inflate($0, raw: false, budget: &budget) }
        #expect(inflated.isEmpty, "not gzip data: nothing")
        #expect(budget == 1 << 20)
    }

    @Test func programsAreKnownByWhatTheyHold() {
        var busybox = Array("\u{7f}ELF".utf8) + [UInt8](repeating: 0, count: 200) + Array("BusyBox v1.36.1".utf8)
        let program = busybox.withUnsafeMutableBytes { ProgramIdentity.program(in: UnsafeRawBufferPointer($0)) }
        #expect(program == .busybox)
        var text = Array("echo BusyBox v1.36.1".utf8)
        #expect(text.withUnsafeMutableBytes { ProgramIdentity.program(in: UnsafeRawBufferPointer($0)) } == nil)
    }

    @Test(arguments: [
        ("busybox/sh", LayerMark.Kind.shell), ("opt/tools/bin/bash", .shell), ("usr/local/bin/busybox", .shell),
        ("sbin/apk", .packageManager), ("var/lib/dpkg/status", .packageManager),
        ("lib/apk/db/installed", .packageManager),
        ("app/.git/config", .versionControl), ("srv/keys/deploy.key", .secretName), ("usr/src/app/.env", .secretName),
    ])
    func namesCountWhereverTheyLie(path: String, kind: LayerMark.Kind) {
        #expect(SecretRules.marks(path: path, kind: .file, mode: 0o755).contains { $0.kind == kind })
    }

    @Test func aConfigFileNamedAfterAProgramIsNoProgram() {
        #expect(SecretRules.marks(path: "etc/logrotate.d/apt", kind: .file, mode: 0o644).isEmpty)
        #expect(SecretRules.marks(path: "usr/share/bash-completion/completions/bash", kind: .file, mode: 0o644).isEmpty)
        #expect(SecretRules.marks(path: "bin/sh", kind: .symbolicLink, mode: 0).map(\.kind) == [.shell])
        #expect(SecretRules.marks(path: "app/.env.example", kind: .file, mode: 0o644).isEmpty, "a template")
    }

    /// A layer of regular files (mode 0755 unless given) and deletions, marked as a layer walk marks them.
    static func layer(_ files: [String], setuid: [String] = [], deleting: [String] = []) -> LayerCount {
        var entries = files.map { LayerEntry(path: $0, kind: .file, bytes: 10) }
        entries += setuid.map { LayerEntry(path: $0, kind: .file, bytes: 10) }
        entries += deleting.map { LayerEntry(path: $0, kind: .whiteout, bytes: 0) }
        let marks =
            files.flatMap { SecretRules.marks(path: $0, kind: .file, mode: 0o755) }
            + setuid.flatMap { SecretRules.marks(path: $0, kind: .file, mode: 0o4755) }
        return LayerCount(
            fileBytes: 10 * Int64(files.count + setuid.count), entries: entries, storedBytes: 0, compression: .none,
            marks: marks)
    }

    /// An image of two base layers and three of the answer's.
    static func audited(
        _ layers: [LayerCount], contents: [AuditedImage.LayerContent] = [], config: [AuditedImage.ConfigText] = [],
        user: ImageUser = ImageUser(configured: "65532", passwd: nil), running: [String]? = ["65532"],
        baseOwn: Set<String> = []
    ) -> AuditedImage {
        let history = layers.indices.map {
            ImageConfig.HistoryEntry(createdBy: "RUN step \($0 + 1)", comment: nil, emptyLayer: nil)
        }
        let image = ArchivedImage(
            layers: layers.enumerated().map { ArchivedLayer(entry: "layer\($0.offset)", count: $0.element) },
            config: ImageConfig(history: history, rootfs: nil))
        return AuditedImage(
            measurement: ImageSizeMeasurement(image: image), baseLayers: 2, user: user, runningUsers: running,
            contents: contents, config: config, baseOwnFiles: baseOwn)
    }

    static func keys(_ findings: [SecurityFinding]) -> [String] {
        findings.map { "\($0.rule.rawValue) \($0.path ?? "-") \($0.layer.map(String.init) ?? "-") \($0.reason.key)" }
    }

    @Test func secretsCountAboveTheBaseAndNameTheirLayerAndInstruction() {
        let base = Self.layer(["usr/share/doc/test.key", "etc/ssl/private/snakeoil.pem"])
        let image = Self.audited(
            [
                base, Self.layer(["etc/passwd"]),
                Self.layer(["usr/src/app/.env", "usr/src/app/main.go", "usr/local/go/test.key", "app/.git/HEAD"]),
                Self.layer(["usr/src/app/server"], deleting: ["usr/src/app/.env"]),
                Self.layer(["server"]),
            ],
            contents: [
                .init(
                    finding: ContentFinding(
                        path: "usr/src/app/bundle.tgz!deploy/key", patterns: [Self.pattern("private-key")]),
                    layer: 3, inFinalImage: true)
            ],
            config: [
                .init(field: .env, name: "GH", text: "GH=\(Self.token)"),
                .init(
                    field: .history, name: "RUN |1 TOKEN=\(Self.token) /bin/sh -c make",
                    text: "RUN |1 TOKEN=\(Self.token) /bin/sh -c make"),
                .init(field: .env, name: "PATH", text: "PATH=/usr/local/bin:/usr/bin"),
            ],
            baseOwn: ["3 usr/local/go/test.key"])
        let findings = ImageSecurityAudit.findings(of: image, rules: [.secrets])
        #expect(
            Self.keys(findings) == [
                "secrets usr/src/app/.env 3 security.secretDeletedButInLayer",
                "secrets usr/src/app/bundle.tgz!deploy/key 3 security.secretInLayer",
                "secrets app/.git 3 security.versionControlFolder",
                "secrets - - security.secretInConfig",
                "secrets - - security.secretInHistory",
            ])
        #expect(findings.allSatisfy { $0.layer == nil || $0.instruction == "RUN step 3" })
        let shown = findings.map { $0.reason.text(in: .en) }.joined(separator: "\n")
        #expect(!shown.contains(Self.token), "a report shows where a secret is, never the secret")
        #expect(findings[4].instruction?.hasPrefix("RUN |1 TOKEN=ghp_") == true)
    }

    static func pattern(_ id: String) -> SecretPattern {
        SecretPatterns.builtIn.patterns.first { $0.id == id }!
    }

    @Test func shellsAndPackageManagersCountWhereverTheyCameFromAndWhateverTheirName() {
        let image = Self.audited(
            [
                Self.layer(["bin/true"]), Self.layer(["etc/passwd"]),
                Self.layer(["busybox/sh", "opt/x"], setuid: ["usr/bin/newuidmap"]),
                Self.layer(["var/lib/dpkg/status"]), Self.layer(["server"]),
            ],
            contents: [
                .init(finding: ContentFinding(path: "opt/x", program: .busybox), layer: 3, inFinalImage: true),
                .init(finding: ContentFinding(path: "opt/gone", program: .bash), layer: 3, inFinalImage: false),
            ])
        let findings = ImageSecurityAudit.findings(of: image, rules: [.shell, .packageManager, .setuid])
        #expect(
            Self.keys(findings) == [
                "shell busybox/sh 3 security.hasShell",
                "packageManager var/lib/dpkg/status 4 security.hasPackageManager",
                "setuid usr/bin/newuidmap 3 security.setuidFile",
            ])
        #expect(findings[0].reason.parts?["path"]?.allMessages.contains(.literal("/opt/x (BusyBox)")) == true)
    }

    @Test func rootIsWhatTheKernelRuns() {
        let layers = (0..<5).map { _ in Self.layer([]) }
        let alias = Self.audited(layers, user: ImageUser(configured: "toor", passwd: Self.passwd), running: ["0"])
        #expect(
            Self.keys(ImageSecurityAudit.findings(of: alias, rules: [.user])) == ["user - - security.runsAsRootAlias"])
        let padded = Self.audited(layers, user: ImageUser(configured: "0000", passwd: nil), running: nil)
        #expect(Self.keys(ImageSecurityAudit.findings(of: padded, rules: [.user])) == ["user - - security.runsAsRoot"])
        let runsAsRoot = Self.audited(layers, user: ImageUser(configured: "65532", passwd: nil), running: ["0"])
        #expect(
            Self.keys(ImageSecurityAudit.findings(of: runsAsRoot, rules: [.user]))
                == ["user - - security.runningAsRootOnly"])
        // Podman shows the running process's user by name: the image's own passwd reads it.
        var named = Self.audited(layers, user: ImageUser(configured: "65532", passwd: nil), running: ["app"])
        named.passwd = "app:x:0:0::/:/sbin/nologin\nroot:x:0:0:root:/root:/sbin/nologin\n"
        #expect(
            Self.keys(ImageSecurityAudit.findings(of: named, rules: [.user])) == ["user - - security.runningAsRootOnly"]
        )
        let fine = Self.audited(layers)
        #expect(ImageSecurityAudit.findings(of: fine, rules: SecurityRule.allCases).isEmpty)
    }
}
