import Foundation
import HandsOnEngine
import HandsOnKit
import HandsOnMessages

/// `handson completion bash|zsh|fish`: a completion script made from the commands' own specs (so it never lists an
/// option `--help` does not), with the course's chapter and step ids as they are when it is made.
struct CompletionCommand: Command {
    let spec = CommandSpec(
        ["completion"], summary: "help.completion.summary",
        arguments: "<bash|zsh|fish>", positionals: 1...1,
        discussion: "help.completion.discussion")

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let words = CompletionWords(
            commands: HandsOnCLI.commands,
            chapters: ProjectLayout.locate(environment: context.environment, currentDirectory: context.currentDirectory)
                .map { ChapterLoader.loadAll(from: $0.chaptersDirectory).chapters } ?? [])
        switch arguments.positionals[0] {
        case "bash": context.io.out(words.bash, terminator: "")
        case "zsh": context.io.out("autoload -U +X bashcompinit && bashcompinit\n" + words.bash, terminator: "")
        case "fish": context.io.out(words.fish, terminator: "")
        default: throw UsageError(say(.cli.completion.completionBashZshFish, ["value": "\(arguments.positionals[0])"]))
        }
        return ExitCode.success
    }
}

/// What completes where: command words, each command's options, and the values of options and positionals.
struct CompletionWords {
    let commands: [any Command]
    let chapters: [Chapter]

    var chapterIDs: [String] { chapters.map(\.id).sorted() }
    var stepIDs: [String] { Array(Set(chapters.flatMap { $0.steps.map(\.id) })).sorted() }

    /// The values an option takes, where they are few and known.
    func values(of option: String) -> [String]? {
        switch OptionKey(rawValue: option) {
        case .engine: return EngineKind.allCases.map(\.rawValue)
        case .chapter: return chapterIDs
        case .step: return stepIDs
        case .lang: return Language.allCases.map(\.rawValue)
        case .format: return ["text", "json", "classroom"]
        default: return nil
        }
    }

    /// Commands whose first positional is a chapter id.
    func takesChapter(_ spec: CommandSpec) -> Bool {
        spec.arguments.hasPrefix("<chapter>") || spec.arguments.hasPrefix("[chapter")
    }

    static func quoted(_ words: [String]) -> String { words.joined(separator: " ") }

    var bash: String {
        let firstWords = Array(Set(commands.map { $0.spec.path[0] })).sorted() + ["help", "version"]
        var cases = ""
        for command in commands {
            let spec = command.spec
            let options = spec.options.map(\.name) + ["--help"]
            let valued = spec.options.filter { $0.valueName != nil }.map(\.name)
            var valueCases = ""
            for option in valued {
                if let values = values(of: option) {
                    valueCases +=
                        "        \(option)) COMPREPLY=($(compgen -W \"\(Self.quoted(values))\" -- \"$cur\")); return ;;\n"
                } else {
                    valueCases += "        \(option)) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
                }
            }
            let positional =
                takesChapter(spec) ? "compgen -W \"\(Self.quoted(chapterIDs))\" -- \"$cur\"" : "compgen -f -- \"$cur\""
            cases += """
                    "\(spec.name)")
                      case "$prev" in
                \(valueCases)      esac
                      if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "\(Self.quoted(options))" -- "$cur"))
                      else COMPREPLY=($(\(positional))); fi
                      return ;;

                """
        }
        var groups = ""
        for (group, members) in Dictionary(
            grouping: commands.filter { $0.spec.path.count > 1 }, by: { $0.spec.path[0] }
        ).sorted(by: { $0.key < $1.key }) {
            groups +=
                "    \(group)) [[ $COMP_CWORD -eq 2 ]] && { COMPREPLY=($(compgen -W \"\(Self.quoted(members.map { $0.spec.path[1] }.sorted()))\" -- \"$cur\")); return; }\n"
            groups += "       command=\"\(group) ${COMP_WORDS[2]}\" ;;\n"
        }
        return """
            # bash completion for handson (handson completion bash)
            _handson() {
              local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" command
              if [[ $COMP_CWORD -eq 1 ]]; then
                COMPREPLY=($(compgen -W "\(Self.quoted(firstWords)) --help --version" -- "$cur")); return
              fi
              command="${COMP_WORDS[1]}"
              case "$command" in
                help) COMPREPLY=($(compgen -W "\(Self.quoted(firstWords.filter { $0 != "help" && $0 != "version" }))" -- "$cur")); return ;;
            \(groups)  esac
              case "$command" in
            \(cases)  esac
            }
            complete -o default -F _handson handson

            """
    }

    var fish: String {
        var lines = ["# fish completion for handson (handson completion fish)", "complete -c handson -f"]
        let topLevel = commands.filter { $0.spec.path.count == 1 }.map(\.spec)
        let groups = Dictionary(grouping: commands.filter { $0.spec.path.count > 1 }.map(\.spec), by: { $0.path[0] })
        let firstWords = (topLevel.map(\.path[0]) + groups.keys).sorted()
        for spec in topLevel {
            lines.append(
                "complete -c handson -n \"not __fish_seen_subcommand_from \(Self.quoted(firstWords))\" -a \(spec.path[0]) -d \(Self.fishQuoted(spec.summaryText))"
            )
        }
        for (group, members) in groups.sorted(by: { $0.key < $1.key }) {
            lines.append(
                "complete -c handson -n \"not __fish_seen_subcommand_from \(Self.quoted(firstWords))\" -a \(group) -d \(Self.fishQuoted("\(group) commands"))"
            )
            for spec in members {
                lines.append(
                    "complete -c handson -n \"__fish_seen_subcommand_from \(group)\" -a \(spec.path[1]) -d \(Self.fishQuoted(spec.summaryText))"
                )
            }
        }
        for command in commands {
            let spec = command.spec
            let condition =
                spec.path.count == 1
                ? "__fish_seen_subcommand_from \(spec.path[0])"
                : "__fish_seen_subcommand_from \(spec.path[0]); and __fish_seen_subcommand_from \(spec.path[1])"
            for option in spec.options {
                var line = "complete -c handson -n \"\(condition)\" -l \(option.name.dropFirst(2))"
                if option.valueName != nil {
                    line += values(of: option.name).map { " -x -a \(Self.fishQuoted(Self.quoted($0)))" } ?? " -r -F"
                }
                lines.append(line + " -d \(Self.fishQuoted(String(option.helpText.prefix(60))))")
            }
            if takesChapter(spec) {
                lines.append("complete -c handson -n \"\(condition)\" -a \(Self.fishQuoted(Self.quoted(chapterIDs)))")
            } else if !spec.arguments.isEmpty {
                lines.append("complete -c handson -n \"\(condition)\" -F")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func fishQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
