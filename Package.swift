// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "HandsOn",
    products: [
        .executable(name: "handson", targets: ["handson"]),
        .library(name: "HandsOnKit", targets: ["HandsOnKit"]),
    ],
    targets: [
        /// The engine: processes, container engines, lab images, parsers, checks, grading, the CLI's commands.
        .target(name: "HandsOnKit", dependencies: ["CSpawnSupport", "CZlibSupport"]),
        /// Two GNU libc calls Swift's Glibc module does not expose (pipe2, posix_spawn chdir).
        .target(name: "CSpawnSupport"),
        /// zlib's inflate for compressed image layers (the system's libz; Debian's zlib1g-dev has the header).
        .target(name: "CZlibSupport", linkerSettings: [.linkedLibrary("z")]),
        /// The executable: only the entry point.
        .executableTarget(name: "handson", dependencies: ["HandsOnKit"]),
        /// Unit tests: no engine needed (a fake process runner where processes are involved).
        .testTarget(name: "HandsOnKitTests", dependencies: ["HandsOnKit"], exclude: ["Fixtures"]),
        /// End-to-end tests against a real Docker (and Podman) engine; enabled by HANDSON_E2E=1 or CI=true.
        .testTarget(name: "EndToEndTests", dependencies: ["HandsOnKit"]),
    ],
    swiftLanguageModes: [.v6]
)
