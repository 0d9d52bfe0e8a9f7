// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "HandsOn",
    products: [
        .executable(name: "handson", targets: ["handson"]),
        .library(name: "HandsOnKit", targets: ["HandsOnKit", "HandsOnEngine", "HandsOnReports"]),
    ],
    targets: [
        /// Every sentence HandsOn says: one keyed JSON catalog per language, built into the binary, and the `Message`
        /// that names a sentence by its key until it is shown.
        .target(
            name: "HandsOnMessages",
            resources: [
                .embedInCode("Catalogs/en.json"), .embedInCode("Catalogs/ja.json"), .embedInCode("Catalogs/ko.json"),
            ]),
        /// What engines, curl and image files hold, read from text and bytes: image listings and displayed sizes, curl
        /// transcripts, tar and gzip streams, bbolt files, OCI layouts, HTTP responses, SHA-256. No process, no engine.
        .target(name: "HandsOnFormats", dependencies: ["HandsOnMessages", "CZlibSupport"]),
        /// Running programs: an argument array, a timeout, output drained while it runs and capped.
        .target(name: "HandsOnProcesses", dependencies: ["HandsOnMessages", "CSpawnSupport"]),
        /// The container engines: EngineOperations and ContainerEngine (the Engine API, else the CLI), what an image
        /// holds and measures (its layers, the audit), the lab's base images, the health probe.
        .target(
            name: "HandsOnEngine", dependencies: ["HandsOnMessages", "HandsOnFormats", "HandsOnProcesses"],
            resources: [.embedInCode("Audit/Rules/secret-patterns.json")]),
        /// Grading and lessons over the engine: chapters, checks, grades, batches, contests, learners' sessions,
        /// reports.
        .target(
            name: "HandsOnKit",
            dependencies: ["HandsOnMessages", "HandsOnFormats", "HandsOnProcesses", "HandsOnEngine"]),
        /// A class's reports: results.json, CSV, JUnit XML, one HTML page, the scoreboard, Classroom's format.
        .target(
            name: "HandsOnReports",
            dependencies: ["HandsOnKit", "HandsOnEngine", "HandsOnFormats", "HandsOnMessages"]),
        /// GNU libc calls Swift's Glibc module does not expose (pipe2, posix_spawn chdir, pidfd_open).
        .target(name: "CSpawnSupport"),
        /// zlib's inflate for compressed image layers (the system's libz; Debian's zlib1g-dev has the header).
        .target(name: "CZlibSupport", linkerSettings: [.linkedLibrary("z")]),
        /// The executable: the command line (commands, argument parsing, console output, the live view) over HandsOnKit.
        .executableTarget(
            name: "handson",
            dependencies: [
                "HandsOnKit", "HandsOnEngine", "HandsOnReports", "HandsOnFormats", "HandsOnMessages",
                "HandsOnProcesses",
            ]),
        /// Unit tests: no engine needed (a fake process runner where processes are involved); the CLI's too.
        .testTarget(
            name: "HandsOnKitTests",
            dependencies: [
                "HandsOnKit", "HandsOnEngine", "HandsOnReports", "HandsOnFormats", "HandsOnMessages",
                "HandsOnProcesses", "handson", "HandsOnTestSupport", "HandsOnKitTestSupport",
            ]),
        /// What more than one test target reads: the captured fixtures' folder (`Tests/Fixtures`), a seeded generator.
        .target(
            name: "HandsOnTestSupport",
            dependencies: ["HandsOnProcesses", "HandsOnEngine", "HandsOnFormats", "HandsOnMessages"],
            path: "Tests/HandsOnTestSupport"),
        /// What the grading, lessons and reports tests share: a real batch's saved grades and the chapter they are of.
        .target(
            name: "HandsOnKitTestSupport", dependencies: ["HandsOnKit", "HandsOnFormats", "HandsOnTestSupport"],
            path: "Tests/HandsOnKitTestSupport"),
        /// The reports against a real batch's grades: every format, escaping, the scoreboard, the size causes.
        .testTarget(
            name: "HandsOnReportsTests",
            dependencies: [
                "HandsOnReports", "HandsOnKit", "HandsOnEngine", "HandsOnFormats", "HandsOnKitTestSupport",
                "HandsOnTestSupport",
            ]),
        /// The engines' side without an engine: ContainerEngine's Engine API and CLI ways against captured output,
        /// image archives and layers from every engine, the audit's rules, the lab's references.
        .testTarget(
            name: "HandsOnEngineTests",
            dependencies: [
                "HandsOnEngine", "HandsOnFormats", "HandsOnMessages", "HandsOnProcesses", "HandsOnTestSupport",
            ]),
        /// The formats read from text and bytes, against what engines, curl and /proc really printed (Tests/Fixtures).
        .testTarget(
            name: "HandsOnFormatsTests",
            dependencies: ["HandsOnFormats", "HandsOnMessages", "HandsOnProcesses", "HandsOnTestSupport"]),
        /// The catalogs and the Message model: every language complete, keys and plurals as the code names them.
        .testTarget(name: "HandsOnMessagesTests", dependencies: ["HandsOnMessages", "HandsOnTestSupport"]),
        /// The process runner against real children (its stress test runs alone: `make stress-test`).
        .testTarget(name: "HandsOnProcessesTests", dependencies: ["HandsOnProcesses"]),
        /// End-to-end tests against a real Docker (and Podman) engine; enabled by HANDSON_E2E=1 or CI=true.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "HandsOnKit", "HandsOnEngine", "HandsOnReports", "HandsOnFormats", "HandsOnMessages",
                "HandsOnProcesses", "handson", "HandsOnTestSupport",
            ],
            exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
