import HandsOnEngine
import HandsOnKit
import HandsOnMessages

/// One option a command accepts: a flag (`--json`) or an option with a value (`--engine docker`).
struct OptionSpec: Sendable {
    let name: String
    /// Shown in help (`--engine <name>`); nil for a flag.
    let valueName: String?
    /// A catalog key (`help.<command>.option.<name>`).
    let help: String

    /// The help in the reader's language.
    var helpText: String { HelpCatalog.text(help) }

    init(_ key: OptionKey, value valueName: String? = nil, help: String) {
        self.name = key.rawValue
        self.valueName = valueName
        self.help = help
    }

    static let json = OptionSpec(.json, help: "help.common.option.json")
    static let engine = OptionSpec(
        .engine, value: "docker|podman",
        help: "help.common.option.engine")
    /// The language of check messages and reports, for the commands whose output is not a learner's.
    static let reportLanguage = OptionSpec(
        .lang, value: Language.allCases.map(\.rawValue).joined(separator: "|"),
        help: "help.common.option.lang")
    /// How long a gate's container may run, for `grade` and `batch`.
    static let runTimeout = OptionSpec(
        .runTimeout, value: "seconds",
        help: "help.common.option.runTimeout")
    /// Added to every command that takes `--engine`.
    static let host = OptionSpec(
        .host, value: "address",
        help: "help.common.option.host")
}

/// What a command is called, takes and does, for parsing and for `--help`.
struct CommandSpec: Sendable {
    /// The words that name it: `["lab", "prepare"]`.
    let path: [String]
    let summary: String
    /// The positional part of the usage line: `<chapter> <dir>`.
    let arguments: String
    let minimumPositionals: Int
    let maximumPositionals: Int
    let options: [OptionSpec]
    let discussion: String?

    init(
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

    var name: String { path.joined(separator: " ") }

    var usageLine: String {
        var parts = ["handson", name]
        if !options.isEmpty { parts.append(say(.help.usage.options)) }
        if !arguments.isEmpty { parts.append(arguments) }
        return parts.joined(separator: " ")
    }

    /// The summary in the reader's language.
    var summaryText: String { HelpCatalog.text(summary) }

    var helpText: String {
        var text = "\(summaryText)\n\n" + say(.help.frame.usage, ["usage": usageLine]) + "\n"
        if let discussion { text += "\n\(HelpCatalog.text(discussion))\n" }
        let rows =
            options.map { option in
                (option.valueName.map { "\(option.name) <\($0)>" } ?? option.name, option.helpText)
            } + [("-h, --help", say(.help.frame.showHelp))]
        let width = rows.map(\.0.count).max() ?? 0
        text += "\n" + say(.help.frame.options) + "\n"
        for (left, right) in rows {
            text += "  \(left.padding(toLength: width, withPad: " ", startingAt: 0))  \(right)\n"
        }
        return text
    }
}

/// Help texts are catalog keys (`help.<command>.summary`, `help.<command>.option.<name>`, `help.<command>.discussion`)
/// rendered in the reader's language, with the few figures they quote filled in.
enum HelpCatalog {
    static func text(_ key: String) -> String {
        say(.composed(key), ["seconds": "\(Int(Grader.defaultRunTimeout))", "label": StandInLabel.key])
    }
}
