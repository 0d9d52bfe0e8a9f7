import Foundation

/// Image operations: look-up, size, labels, build, import, pull, tag, removal.
extension ContainerEngine {
    public func imageExists(_ reference: String) -> Bool {
        (try? execute(["image", "inspect", "--format", "{{.Id}}", reference], timeout: 30).succeeded) ?? false
    }

    /// The name this engine knows an image by: as given if it resolves, else the listed image whose reference
    /// matches across engines (`localhost/go-image:base`, `go-image:base`, `docker.io/library/go-image:base`).
    public func resolveImage(_ reference: String) -> String? {
        if imageExists(reference) { return reference }
        let arguments = kind == .docker ? ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]
                                        : ["images", "--format", "{{.Repository}}:{{.Tag}}"]
        guard let listing = try? execute(arguments, timeout: 30), listing.succeeded else { return nil }
        let wanted = ImageReference(reference)
        return listing.stdout.split(separator: "\n").map(String.init).first { ImageReference($0) == wanted }
    }

    /// The exact size in bytes as the engine records it (`image inspect .Size`).
    public func imageSizeBytes(_ reference: String) throws -> Int64 {
        let text = try checked(["image", "inspect", "--format", "{{.Size}}", reference], timeout: 30).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Int64(text) else {
            throw CommandFailure("`\(kind.rawValue) image inspect` gave '\(text)' for the size of \(reference), not a number")
        }
        return bytes
    }

    /// The size as the engine's own image listing displays it (`10MB`, `4.48 MB`).
    public func displayedImageSize(_ reference: String) throws -> String {
        let arguments = kind == .docker ? ["image", "ls", "--format", "{{.Size}}", reference]
                                        : ["images", "--format", "{{.Size}}", reference]
        let text = try checked(arguments, timeout: 30).stdout
        guard let line = text.split(separator: "\n").first else {
            throw CommandFailure("\(reference) is not in the image listing")
        }
        return line.trimmingCharacters(in: .whitespaces)
    }

    public func imageLabels(_ reference: String) throws -> [String: String] {
        let text = try checked(["image", "inspect", "--format", "{{json .Config.Labels}}", reference], timeout: 30).stdout
        let data = Data(text.utf8)
        return (try? JSONDecoder().decode([String: String]?.self, from: data)) ?? [:]
    }

    /// Builds `contextDirectory` into `tag`; returns the result whether or not the build worked.
    public func build(contextDirectory: String, dockerfile: String? = nil, tag: String, labels: [String: String] = [:],
                      extraArguments: [String] = [], timeout: Double = 600,
                      onOutput: (@Sendable (OutputStreamKind, Data) -> Void)? = nil) throws -> ProcessResult {
        var arguments = ["build", "--force-rm", "-t", tag]
        if let dockerfile { arguments += ["-f", dockerfile] }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { arguments += ["--label", "\(key)=\(value)"] }
        arguments += extraArguments
        arguments.append(contextDirectory)
        return try execute(arguments, timeout: timeout, outputLimit: 256 * 1024, onOutput: onOutput)
    }

    /// Makes an image from a root file system tarball, with Dockerfile-style `changes` (ENV, CMD, LABEL, ...).
    public func importTarball(_ tarball: String, as reference: String, changes: [String]) throws {
        var arguments = ["import"]
        for change in changes { arguments += ["--change", change] }
        arguments += [tarball, reference]
        try checked(arguments, timeout: 900)
    }

    public func pull(_ reference: String, timeout: Double) throws -> ProcessResult {
        try execute(["pull", reference], timeout: timeout)
    }

    public func tag(_ source: String, _ target: String) throws {
        try checked(["tag", source, target])
    }

    /// The line that says why a build failed, as each builder prints it: BuildKit's `ERROR: failed to solve: ...`
    /// (on stderr, after a copy of the Dockerfile's lines), Podman's `Error: building at STEP ...`, the classic
    /// builder's `The command '...' returned a non-zero code: N`; else the last lines of both streams.
    public static func buildFailureSummary(_ result: ProcessResult) -> String {
        let lines = TextLines.split(result.standardError.text + "\n" + result.standardOutput.text).map { $0.trimmedSpaces }
        if let reason = lines.last(where: { $0.hasPrefix("ERROR: ") || $0.hasPrefix("Error: ") || $0.contains("returned a non-zero code") }) {
            return reason
        }
        return (result.standardError.lastLines(3) + "\n" + result.standardOutput.lastLines(2)).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Image ids a build printed for its steps: ` ---> 3f2a9c...` (docker's classic builder), `--> 3f2a9c...` (podman).
    /// They name exactly what this build made, unlike "every untagged image", which would take parallel builds' stages too.
    public static func stepImageIDs(inBuildOutput text: String) -> [String] {
        var ids: [String] = []
        for line in TextLines.split(text) {
            let trimmed = line.trimmedSpaces
            guard trimmed.hasPrefix("-->") || trimmed.hasPrefix("--->") else { continue }
            let word = trimmed.drop { $0 == "-" || $0 == ">" || $0 == " " }.prefix { !$0.isWhitespace }
            if word.count >= 10, word.allSatisfy(\.isHexDigit) { ids.append(String(word)) }
        }
        return ids
    }

    /// Removes those of a build's step images that no tag names (a multi-stage build's earlier stages); tagged
    /// images, and images other images still build on, stay.
    public func removeUntaggedStepImages(ofBuildOutput text: String) {
        removeUntaggedImages(Self.stepImageIDs(inBuildOutput: text))
    }

    /// Removes those of the given images (oldest first in `ids`) that no tag names; others, and parents of images
    /// still present, stay.
    public func removeUntaggedImages(_ ids: [String]) {
        var remaining = ids
        // An image refused because another still builds on it goes in a later pass, once its child has gone.
        for _ in 0..<3 where !remaining.isEmpty {
            guard let result = cleanUp(["image", "inspect", "--format", "{{.Id}} {{len .RepoTags}}"] + remaining, timeout: 60)
            else { return }
            let untagged = result.stdout.split(separator: "\n").compactMap { line -> String? in
                let parts = line.split(separator: " ")
                return parts.count == 2 && parts[1] == "0" ? String(parts[0]) : nil
            }
            guard !untagged.isEmpty, let removal = cleanUp(["image", "rm"] + untagged.reversed()) else { return }
            if removal.succeeded { return }
            remaining = untagged
        }
    }

    /// Removes the images of `repository` whose tag starts with `tagPrefix`.
    public func removeImages(repository: String, tagPrefix: String) {
        let arguments = kind == .docker ? ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repository]
                                        : ["images", "--format", "{{.Repository}}:{{.Tag}}", repository]
        guard let listing = cleanUp(arguments, timeout: 60) else { return }
        removeImages(listing.stdout.split(separator: "\n").map(String.init).filter { reference in
            guard let colon = reference.lastIndex(of: ":") else { return false }
            return reference[reference.index(after: colon)...].hasPrefix(tagPrefix)
        })
    }

    /// Removes images; ones already gone are not an error.
    public func removeImages(_ references: [String]) {
        guard !references.isEmpty else { return }
        _ = cleanUp(["image", "rm", "-f"] + references)
    }
}
