import Foundation
import HandsOnFormats
import HandsOnMessages
import HandsOnProcesses

/// Builds stand-ins for lab images from Debian bookworm packages: one debootstrap root with the Go tool chain
/// feeds `golang:1.19`, both distroless images and busybox; a second, minbase root becomes `debian:bookworm-slim`.
/// Each root file system is packed with tar and imported into the engine with its config and labels.
/// An actor: the tool chain root, made once, is remembered for the next image.
public actor StandInBuilder {
    static let suite = "bookworm"
    /// What the official golang image carries on top of Go, plus what the distroless and busybox stand-ins take files from.
    static let toolchainPackages = [
        "golang-1.19-go", "gcc", "libc6-dev", "make", "pkg-config", "git", "ca-certificates",
        "tzdata", "netbase", "libssl3", "busybox-static",
    ]
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    let engine: ContainerEngine
    let runner: any ProcessRunning
    let workDirectory: String
    let mirror: String
    let progress: any ProgressListener
    private var toolchainRoot: String?

    public init(engine: ContainerEngine, workDirectory: String, mirror: String, progress: any ProgressListener) {
        self.engine = engine
        self.runner = engine.runner
        self.workDirectory = workDirectory
        self.mirror = mirror
        self.progress = progress
    }

    /// Builds and imports the stand-in for one lab image.
    public func build(_ image: LabImage) async throws {
        let staging: String
        var changes: [String]
        switch image.recipe {
        case .golang:
            staging = try await prepareGolangRoot()
            let goVersion =
                (try? String(contentsOfFile: "\(staging)/usr/lib/go-1.19/VERSION", encoding: .utf8))
                .map { $0.split(separator: "\n").first.map(String.init) ?? "" }?.replacingOccurrences(
                    of: "go", with: "") ?? "1.19"
            changes = [
                "ENV PATH=/go/bin:/usr/local/go/bin:\(Self.defaultPath)", "ENV GOPATH=/go",
                "ENV GOLANG_VERSION=\(goVersion)", "WORKDIR /go", "CMD [\"bash\"]",
            ]
        case .distrolessStatic, .distrolessStaticNonroot:
            staging = try await assembleDistroless(withLibraries: false)
            changes = ["ENV PATH=\(Self.defaultPath)", "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"]
            if image.recipe == .distrolessStaticNonroot { changes += ["USER 65532:65532", "WORKDIR /home/nonroot"] }
        case .distrolessBase:
            staging = try await assembleDistroless(withLibraries: true)
            changes = ["ENV PATH=\(Self.defaultPath)", "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"]
        case .busybox:
            staging = try await assembleBusybox()
            changes = ["CMD [\"sh\"]"]
        case .debianSlim:
            staging = try await debootstrap(into: "\(workDirectory)/rootfs-slim", packages: [])
            try trimDocumentation(in: staging)
            changes = ["ENV PATH=\(Self.defaultPath)", "CMD [\"bash\"]"]
        }
        changes += [
            "LABEL \(StandInLabel.key)=\"\(StandInLabel.value)\"",
            "LABEL \(StandInLabel.sourceKey)=\"Debian \(Self.suite) packages\"",
            "LABEL \(StandInLabel.forKey)=\"\(image.reference)\"",
        ]
        progress.detail(
            say(.lab.packingStandIn, ["image": image.reference, "engine": engine.kind.rawValue]))
        let tarball = "\(workDirectory)/\(image.recipe.rawValue).tar"
        try await run("tar", ["--numeric-owner", "-C", staging, "-cf", tarball, "."], timeout: 900)
        defer { try? FileManager.default.removeItem(atPath: tarball) }
        try await engine.importTarball(tarball, as: ImageReference(image.reference).qualified, changes: changes)
        if staging != toolchainRoot { try? FileManager.default.removeItem(atPath: staging) }
    }

    /// Removes what was assembled for single images. The tool chain root (marked complete) and the downloaded
    /// packages stay as a cache: rebuilding a distroless or busybox stand-in later takes seconds, not a debootstrap.
    public func cleanUp() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: workDirectory)) ?? []
        for name in names where name.hasPrefix("staging-") || name == "rootfs-slim" || name.hasSuffix(".tar") {
            try? FileManager.default.removeItem(atPath: "\(workDirectory)/\(name)")
        }
    }

    // MARK: - Recipes

    private func ensureToolchainRoot() async throws -> String {
        if let toolchainRoot { return toolchainRoot }
        let root = try await debootstrap(into: "\(workDirectory)/rootfs-toolchain", packages: Self.toolchainPackages)
        toolchainRoot = root
        return root
    }

    private func prepareGolangRoot() async throws -> String {
        let root = try await ensureToolchainRoot()
        let fileManager = FileManager.default
        try? fileManager.removeItem(atPath: "\(root)/usr/local/go")
        try fileManager.createSymbolicLink(atPath: "\(root)/usr/local/go", withDestinationPath: "/usr/lib/go-1.19")
        for directory in ["go", "go/src", "go/bin"] {
            try fileManager.createDirectory(atPath: "\(root)/\(directory)", withIntermediateDirectories: true)
            chmod("\(root)/\(directory)", 0o1777)
        }
        for directory in ["var/cache/apt/archives", "var/lib/apt/lists"] {
            try clearDirectory("\(root)/\(directory)", keeping: ["partial", "lock"])
        }
        return root
    }

    /// distroless `static`: users root and nonroot (65532), CA certificates, time zones, /tmp; no shell.
    /// With `withLibraries`, distroless `base`: glibc and libssl added.
    private func assembleDistroless(withLibraries: Bool) async throws -> String {
        let root = try await ensureToolchainRoot()
        let staging = "\(workDirectory)/staging-distroless-\(withLibraries ? "base" : "static")"
        try? FileManager.default.removeItem(atPath: staging)
        let files = RootFileSystemWriter(root: staging)
        try files.directory("tmp", mode: 0o1777)
        try files.directory("root", mode: 0o700)
        try files.directory("home/nonroot", mode: 0o700, owner: 65532)
        try files.text(
            "etc/passwd",
            """
            root:x:0:0:root:/root:/sbin/nologin
            nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
            nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin

            """)
        try files.text("etc/group", "root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n")
        try files.text("etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n")
        try files.text(
            "etc/os-release",
            """
            PRETTY_NAME="Distroless stand-in (HandsOn, from Debian 12 packages)"
            NAME="Debian GNU/Linux"
            VERSION_ID="12"
            ID=debian
            HOME_URL="about:blank"

            """)
        try files.directory("etc/ssl/certs")
        try await copy("\(root)/etc/ssl/certs/ca-certificates.crt", to: "\(staging)/etc/ssl/certs/ca-certificates.crt")
        try files.directory("usr/share")
        try await copy("\(root)/usr/share/zoneinfo", to: "\(staging)/usr/share/zoneinfo")
        for file in ["etc/services", "etc/protocols"] { try await copy("\(root)/\(file)", to: "\(staging)/\(file)") }
        if withLibraries {
            for link in ["bin", "lib", "lib64", "sbin"] { try files.symlink(link, to: "usr/\(link)") }
            for package in ["libc6", "libssl3"] {
                for path in try PackageFileList.regularFiles(of: package, in: root) {
                    try files.directory((path as NSString).deletingLastPathComponent)
                    try await copy("\(root)/\(path)", to: "\(staging)/\(path)")
                }
            }
        }
        return staging
    }

    /// busybox: Debian's static busybox with a link for each applet in /bin.
    private func assembleBusybox() async throws -> String {
        let root = try await ensureToolchainRoot()
        let staging = "\(workDirectory)/staging-busybox"
        try? FileManager.default.removeItem(atPath: staging)
        let files = RootFileSystemWriter(root: staging)
        try files.directory("bin")
        try await copy("\(root)/usr/bin/busybox", to: "\(staging)/bin/busybox")
        let applets = try await run("\(staging)/bin/busybox", ["--list"], timeout: 30).stdout
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty && $0 != "busybox" }
        for applet in applets { try files.symlink("bin/\(applet)", to: "busybox") }
        for directory in ["etc", "root", "home", "var", "usr/bin", "usr/sbin"] { try files.directory(directory) }
        try files.directory("tmp", mode: 0o1777)
        try files.text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n")
        try files.text("etc/group", "root:x:0:\nnogroup:x:65534:\n")
        return staging
    }

    // MARK: - Tools

    private func debootstrap(into root: String, packages: [String]) async throws -> String {
        guard
            let debootstrap = ExecutableLocator.find(
                "debootstrap", environment: ["PATH": "/usr/sbin:/sbin:/usr/bin:/bin:/usr/local/sbin:/usr/local/bin"])
        else {
            throw LabError.debootstrapMissing
        }
        let cache = "\(workDirectory)/debs"
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: "\(root)/etc/debian_version"),
            FileManager.default.fileExists(atPath: "\(root)/.handson-complete")
        {
            return root
        }
        try? FileManager.default.removeItem(atPath: root)
        var arguments = ["--variant=minbase", "--cache-dir=\(cache)"]
        if !packages.isEmpty { arguments.append("--include=\(packages.joined(separator: ","))") }
        arguments += [Self.suite, root, mirror]
        let reporter = progress
        let lines = LineSplitter()
        reporter.detail(
            "debootstrap \(Self.suite) from \(mirror)\(packages.isEmpty ? " (minbase)" : " with \(packages.count) extra packages")"
        )
        let result = try await runner.run(
            ProcessRequest(
                debootstrap, arguments, timeout: 1800, outputLimit: 256 * 1024,
                onOutput: { _, data in
                    for line in lines.feed(data) where line.hasPrefix("I: ") {
                        reporter.activity(String(line.dropFirst(3)))
                    }
                }))
        guard result.succeeded else {
            throw LabError.debootstrapFailed(
                "\(result.failureSummary)\n"
                    + (try? String(contentsOfFile: "\(root)/debootstrap/debootstrap.log", encoding: .utf8))
                    .map { String($0.suffix(2000)) }.orEmpty)
        }
        _ = FileManager.default.createFile(atPath: "\(root)/.handson-complete", contents: Data())
        return root
    }

    private func trimDocumentation(in root: String) throws {
        for directory in [
            "usr/share/doc", "usr/share/man", "usr/share/info", "var/cache/apt/archives", "var/lib/apt/lists",
        ] {
            try clearDirectory("\(root)/\(directory)", keeping: ["partial", "lock"])
        }
        try? FileManager.default.removeItem(atPath: "\(root)/.handson-complete")
    }

    private func clearDirectory(_ path: String, keeping kept: Set<String>) throws {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return }
        for name in names where !kept.contains(name) { try FileManager.default.removeItem(atPath: "\(path)/\(name)") }
    }

    /// `cp -a`, which keeps modes, owners and symbolic links as they are.
    private func copy(_ source: String, to destination: String) async throws {
        try await run("cp", ["-a", source, destination], timeout: 300)
    }

    @discardableResult
    private func run(_ executable: String, _ arguments: [String], timeout: Double) async throws -> ProcessResult {
        let result = try await runner.run(ProcessRequest(executable, arguments, timeout: timeout))
        guard result.succeeded else { throw LabError.stepFailed(result.failureSummary) }
        return result
    }
}

extension Optional where Wrapped == String {
    var orEmpty: String { self ?? "" }
}
