import Foundation

/// Where the repository's folders are, from this file's own place in it.
public enum Repository {
    /// The repository's top folder.
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
}

/// What builders printed, captured (`Tests/Fixtures/builds`).
public enum BuildFixtures {
    public static func text(_ name: String) throws -> String {
        try String(contentsOfFile: Repository.root + "/Tests/Fixtures/builds/\(name)", encoding: .utf8)
    }
}

/// Real outputs captured from docker (CLI 28.2, engine 20.10) and podman 4.3 by scripts/capture-listing-fixtures.sh.
public enum ListingFixtures {
    public static let directory = Repository.root + "/Tests/Fixtures/listings"

    public static func text(_ name: String) throws -> String {
        try String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)
    }

    /// tag -> exact bytes, from `image inspect` at capture time.
    public static func exactSizes(_ engine: String) throws -> [String: Int64] {
        var sizes: [String: Int64] = [:]
        for line in try text("\(engine)-exact-sizes.txt").split(separator: "\n") {
            let parts = line.split(separator: " ")
            sizes[String(parts[0])] = Int64(parts[1])
        }
        return sizes
    }
}

/// A seeded generator (SplitMix64), so a randomised test sees the same values on every run.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
