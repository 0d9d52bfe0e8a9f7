import HandsOnEngine
import HandsOnKit
import HandsOnMessages

/// A command's arguments after parsing: flags seen, option values, positionals in order.
struct ParsedArguments: Sendable, Equatable {
    var flags: Set<String> = []
    var values: [String: String] = [:]
    var positionals: [String] = []
    var wantsHelp = false

    init() {}

    func has(_ flag: OptionKey) -> Bool { flags.contains(flag.rawValue) }
    func value(_ option: OptionKey) -> String? { values[option.rawValue] }

    /// A positive number of seconds (or any positive number) given to an option, or the default.
    func positiveNumber(_ option: OptionKey, default fallback: Double) throws -> Double {
        guard let text = values[option.rawValue] else { return fallback }
        guard let number = Double(text), number > 0, number.isFinite else {
            throw UsageError(say(.cli.args.positiveNumber, ["option": option.rawValue, "text": text]))
        }
        return number
    }

    func positiveInteger(_ option: OptionKey, default fallback: Int) throws -> Int {
        guard let text = values[option.rawValue] else { return fallback }
        guard let number = Int(text), number > 0 else {
            throw UsageError(say(.cli.args.positiveInteger, ["option": option.rawValue, "text": text]))
        }
        return number
    }

    /// Reads a command's words against its spec; unknown options and wrong counts are usage errors.
    static func parse(_ words: [String], for spec: CommandSpec) throws -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = 0
        var optionsEnded = false
        while index < words.count {
            let word = words[index]
            index += 1
            if optionsEnded || !word.hasPrefix("-") || word == "-" {
                parsed.positionals.append(word)
                continue
            }
            if word == "--" {
                optionsEnded = true
                continue
            }
            if word == "-h" || word == "--help" {
                parsed.wantsHelp = true
                continue
            }
            var name = word
            var inlineValue: String?
            if let equals = word.firstIndex(of: "="), word.hasPrefix("--") {
                name = String(word[..<equals])
                inlineValue = String(word[word.index(after: equals)...])
            }
            guard let option = spec.options.first(where: { $0.name == name }) else {
                throw UsageError(say(.cli.args.unknownOption, ["name": name]))
            }
            if option.valueName == nil {
                if inlineValue != nil { throw UsageError(say(.cli.args.takesNoValue, ["name": name])) }
                parsed.flags.insert(name)
            } else if let inlineValue {
                parsed.values[name] = inlineValue
            } else {
                guard index < words.count else {
                    throw UsageError(say(.cli.args.needsValue, ["name": name, "value": option.valueName ?? ""]))
                }
                parsed.values[name] = words[index]
                index += 1
            }
        }
        if parsed.wantsHelp { return parsed }
        if parsed.positionals.count < spec.minimumPositionals {
            throw UsageError(say(.cli.args.missingArgument, ["arguments": spec.arguments]))
        }
        if parsed.positionals.count > spec.maximumPositionals {
            throw UsageError(
                say(.cli.args.unexpectedArgument, ["argument": parsed.positionals[spec.maximumPositionals]]))
        }
        return parsed
    }
}

/// The user typed something the CLI does not accept: printed with the usage line, exit 2.
struct UsageError: Error, Equatable, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// A command could not do its work; the message is one sentence for the user, exit 1.
struct CommandFailure: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
