// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "HandsOn",
    products: [
        .executable(name: "handson", targets: ["handson"]),
        .library(name: "HandsOnKit", targets: ["HandsOnKit"]),
    ],
    targets: [
        /// The engine: processes, container engines, lab images, parsers, checks, grading, lessons, reports.
        /// Its sentences come from one keyed JSON catalog per language, built into the binary.
        .target(
            name: "HandsOnKit", dependencies: ["CSpawnSupport", "CZlibSupport"],
            resources: [
                .embedInCode("Messages/Catalogs/en.json"), .embedInCode("Messages/Catalogs/ja.json"),
                .embedInCode("Messages/Catalogs/ko.json"), .embedInCode("Audit/Rules/secret-patterns.json"),
            ]),
        /// GNU libc calls Swift's Glibc module does not expose (pipe2, posix_spawn chdir, pidfd_open).
        .target(name: "CSpawnSupport"),
        /// zlib's inflate for compressed image layers (the system's libz; Debian's zlib1g-dev has the header).
        .target(name: "CZlibSupport", linkerSettings: [.linkedLibrary("z")]),
        /// The executable: the command line (commands, argument parsing, console output, the live view) over HandsOnKit.
        .executableTarget(name: "handson", dependencies: ["HandsOnKit"]),
        /// Unit tests: no engine needed (a fake process runner where processes are involved); the CLI's too.
        .testTarget(name: "HandsOnKitTests", dependencies: ["HandsOnKit", "handson"], exclude: ["Fixtures"]),
        /// End-to-end tests against a real Docker (and Podman) engine; enabled by HANDSON_E2E=1 or CI=true.
        .testTarget(name: "EndToEndTests", dependencies: ["HandsOnKit", "handson"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
