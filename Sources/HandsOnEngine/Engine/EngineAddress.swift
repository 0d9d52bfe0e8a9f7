import Foundation
import HandsOnMessages

/// One engine a batch may grade on, as `--hosts` and `--hosts-file` name it: what the docker CLI takes for `--host`
/// (`unix://`, `tcp://`, `ssh://user@host`) or `context:NAME`, optionally with `=JOBS` answers at a time and `@CPUS`
/// after that, the CPUs its builds and the answers' containers are pinned to (for engines that share one machine).
public struct EngineAddress: Sendable, Equatable, CustomStringConvertible {
    public enum Target: Sendable, Equatable {
        /// A socket URL: `DOCKER_HOST` (docker) or `CONTAINER_HOST` (podman).
        case url(String)
        /// A docker context (`DOCKER_CONTEXT`) or a podman connection (`CONTAINER_CONNECTION`).
        case context(String)
    }

    public let target: Target
    /// Answers graded at a time on it; nil: as many as the engine's machine has CPUs.
    public let jobs: Int?
    /// A CPU list (`0`, `2-3`) its grades are pinned to; nil: any.
    public let cpuset: String?

    public init(target: Target, jobs: Int? = nil, cpuset: String? = nil) {
        self.target = target
        self.jobs = jobs
        self.cpuset = cpuset
    }

    /// The address as written, without the jobs: `ssh://root@lab1`, `context:lab2`.
    public var description: String {
        switch target {
        case .url(let url): return url
        case .context(let name): return "context:\(name)"
        }
    }

    static let schemes = ["unix://", "tcp://", "ssh://", "npipe://"]

    /// Reads `HOST[=JOBS[@CPUS]]`; the error names the entry and what is wrong with it.
    public static func parse(_ text: String) throws(EngineAddressError) -> EngineAddress {
        let entry = text.trimmingCharacters(in: .whitespaces)
        var address = entry
        var jobs: Int?
        var cpuset: String?
        if let equals = entry.lastIndex(of: "="), !entry.hasPrefix("context:") || entry.firstIndex(of: "=") == equals {
            let suffix = entry[entry.index(after: equals)...]
            let jobsText = suffix.prefix { $0 != "@" }
            if !jobsText.isEmpty, jobsText.allSatisfy({ $0.isASCII && $0.isNumber }) {
                guard let count = Int(jobsText), count > 0 else {
                    throw EngineAddressError(entry: entry, problem: Message(.engineAddress.jobsNotNumber))
                }
                if suffix.count > jobsText.count {
                    let list = String(suffix.dropFirst(jobsText.count + 1))
                    guard CPUList.isValid(list) else {
                        throw EngineAddressError(
                            entry: entry, problem: Message(.engineAddress.cpusNotList))
                    }
                    cpuset = list
                }
                jobs = count
                address = String(entry[..<equals])
            }
        }
        if address.hasPrefix("context:") {
            let name = String(address.dropFirst("context:".count))
            guard !name.isEmpty, !name.contains(where: \.isWhitespace) else {
                throw EngineAddressError(entry: entry, problem: Message(.engineAddress.contextNeedsName))
            }
            return EngineAddress(target: .context(name), jobs: jobs, cpuset: cpuset)
        }
        guard let scheme = schemes.first(where: { address.hasPrefix($0) }) else {
            throw EngineAddressError(
                entry: entry,
                problem: Message(.engineAddress.notAnAddress))
        }
        guard address.count > scheme.count, !address.contains(where: \.isWhitespace) else {
            throw EngineAddressError(
                entry: entry,
                problem: Message(
                    scheme == "unix://" ? .engineAddress.needsSocketPath : .engineAddress.needsHost,
                    ["scheme": scheme]))
        }
        return EngineAddress(target: .url(address), jobs: jobs, cpuset: cpuset)
    }

    /// Reads `--hosts`: entries separated by commas.
    public static func parseList(_ text: String) throws(EngineAddressError) -> [EngineAddress] {
        var addresses: [EngineAddress] = []
        for entry in Self.entries(text) where !entry.trimmingCharacters(in: .whitespaces).isEmpty {
            addresses.append(try parse(String(entry)))
        }
        return addresses
    }

    /// Splits a `--hosts` value at the commas that end an entry (a CPU list after `@` has commas of its own).
    static func entries(_ text: String) -> [Substring] {
        var entries: [Substring] = []
        var start = text.startIndex
        var inCPUList = false
        for index in text.indices {
            switch text[index] {
            case "@" where text[start..<index].contains("=") && text[start..<index].last?.isNumber == true:
                inCPUList = true
            case ",":
                let next = text.index(after: index)
                if inCPUList, next < text.endIndex, text[next].isNumber { continue }
                entries.append(text[start..<index])
                start = next
                inCPUList = false
            default: break
            }
        }
        entries.append(text[start...])
        return entries
    }

    /// Reads a hosts file: one entry a line; blank lines and lines starting with `#` are skipped. An error names the
    /// file and the line.
    public static func parseFile(_ contents: String, path: String) throws(EngineAddressError) -> [EngineAddress] {
        var addresses: [EngineAddress] = []
        for (index, line) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let entry = line.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty || entry.hasPrefix("#") { continue }
            do {
                addresses.append(try parse(entry))
            } catch {
                throw EngineAddressError(entry: entry, problem: error.problem, location: "\(path):\(index + 1)")
            }
        }
        return addresses
    }

    /// The environment that points an engine's CLI here, and away from any address the base environment names.
    public func environment(for kind: EngineKind, base: [String: String]) -> [String: String] {
        var environment = base
        for name in ["DOCKER_HOST", "DOCKER_CONTEXT", "CONTAINER_HOST", "CONTAINER_CONNECTION"] {
            environment[name] = nil
        }
        switch (target, kind) {
        case (.url(let url), .docker): environment["DOCKER_HOST"] = url
        case (.url(let url), .podman): environment["CONTAINER_HOST"] = url
        case (.context(let name), .docker): environment["DOCKER_CONTEXT"] = name
        case (.context(let name), .podman): environment["CONTAINER_CONNECTION"] = name
        }
        return environment
    }
}

/// A `--hosts` entry that cannot be used.
public struct EngineAddressError: Error, CustomStringConvertible {
    public let entry: String
    public let problem: Message
    /// `file:line` for a hosts file.
    public var location: String?

    package init(entry: String, problem: Message, location: String? = nil) {
        self.entry = entry
        self.problem = problem
        self.location = location
    }

    public var description: String {
        (location.map { "\($0): " } ?? "") + say(.engineAddress.entry, ["entry": entry, "problem": problem.text()])
    }
}
