import HandsOnKit

/// One option a command accepts: a flag (`--json`) or an option with a value (`--engine docker`).
public struct OptionSpec: Sendable {
    public let name: String
    /// Shown in help (`--engine <name>`); nil for a flag.
    public let valueName: String?
    public let help: String

    public init(_ key: OptionKey, value valueName: String? = nil, help: String) {
        self.name = key.rawValue
        self.valueName = valueName
        self.help = help
    }

    public static let json = OptionSpec(.json, help: "Print the result as JSON on stdout.")
    public static let engine = OptionSpec(
        .engine, value: "docker|podman",
        help: "Container engine to use (default: whichever answers, docker first).")
    /// The language of check messages and reports, for the commands whose output is not a learner's.
    public static let reportLanguage = OptionSpec(
        .lang, value: Language.allCases.map(\.rawValue).joined(separator: "|"),
        help: "Language of the check messages and reports (en, ja, ko); default en.")
    /// How long a gate's container may run, for `grade` and `batch`.
    public static let runTimeout = OptionSpec(
        .runTimeout, value: "seconds",
        help: "Limit for health and command gates (default \(Int(Grader.defaultRunTimeout))).")
    /// Added to every command that takes `--engine`.
    public static let host = OptionSpec(
        .host, value: "address",
        help: "The engine's address: unix:///path, tcp://host:port, ssh://user@host or context:NAME "
            + "(docker: DOCKER_HOST or DOCKER_CONTEXT; podman: CONTAINER_HOST or CONTAINER_CONNECTION).")
}

/// What a command is called, takes and does, for parsing and for `--help`.
public struct CommandSpec: Sendable {
    /// The words that name it: `["lab", "prepare"]`.
    public let path: [String]
    public let summary: String
    /// The positional part of the usage line: `<chapter> <dir>`.
    public let arguments: String
    public let minimumPositionals: Int
    public let maximumPositionals: Int
    public let options: [OptionSpec]
    public let discussion: String?

    public init(
        _ path: [String], summary: String, arguments: String = "", positionals: ClosedRange<Int> = 0...0,
        options: [OptionSpec] = [], discussion: String? = nil
    ) {
        self.path = path
        self.summary = summary
        self.arguments = arguments
        self.minimumPositionals = positionals.lowerBound
        self.maximumPositionals = positionals.upperBound
        self.options = options.contains { $0.name == OptionSpec.engine.name } ? options + [.host] : options
        self.discussion = discussion
    }

    public var name: String { path.joined(separator: " ") }

    public var usageLine: String {
        var parts = ["handson", name]
        if !options.isEmpty { parts.append("[options]") }
        if !arguments.isEmpty { parts.append(arguments) }
        return parts.joined(separator: " ")
    }

    public var helpText: String {
        var text = "\(summary)\n\nUsage: \(usageLine)\n"
        if let discussion { text += "\n\(discussion)\n" }
        let rows =
            options.map { option in (option.valueName.map { "\(option.name) <\($0)>" } ?? option.name, option.help) }
            + [("-h, --help", "Show this help.")]
        let width = rows.map(\.0.count).max() ?? 0
        text += "\nOptions:\n"
        for (left, right) in rows {
            text += "  \(left.padding(toLength: width, withPad: " ", startingAt: 0))  \(right)\n"
        }
        return text
    }
}
