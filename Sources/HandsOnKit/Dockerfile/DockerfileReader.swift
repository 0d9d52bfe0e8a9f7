import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnMessages

/// One instruction, continuation lines joined and comment lines inside them dropped.
public struct DockerfileInstruction: Sendable, Equatable {
    /// Upper-cased (`FROM`, `RUN`, ...).
    public let keyword: String
    /// Everything after the keyword and its `--flag=value` options.
    public let arguments: String
    /// `--from=builder`, `--chown=nonroot` ... without the dashes.
    public let flags: [String: String]
    /// 1-based line where the instruction starts.
    public let line: Int

    /// JSON-array ("exec") form, as `CMD ["./server"]`; shell form otherwise.
    public var isExecForm: Bool {
        let text = arguments.trimmedSpaces
        guard text.hasPrefix("["),
            let array = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Any]
        else { return false }
        return array.allSatisfy { $0 is String }
    }
}

/// One build stage: `FROM base [AS name]` and what follows up to the next `FROM`.
public struct DockerfileStage: Sendable, Equatable {
    public let index: Int
    /// The base as written, ARG defaults from before the first FROM substituted.
    public let base: String
    public let name: String?
    public let line: Int
    public let instructions: [DockerfileInstruction]
}

/// A Dockerfile that cannot be read: the line and what is wrong with it.
public struct DockerfileError: Error, Equatable, CustomStringConvertible {
    public let line: Int
    public let problem: Message
    /// "Dockerfile line N: " and the problem, to render in the reader's language.
    public var reason: Message { Message(.dockerfile.line, ["line": "\(line)"], then: [problem]) }
    public var description: String { reason.text() }
}

extension Message {
    /// An error as a message: its own when it has one (a Dockerfile that cannot be read), else its words as they are.
    static func of(_ error: any Error) -> Message {
        if let error = error as? DockerfileError { return error.reason }
        return Message(describing: error)
    }
}

/// A small reader of Dockerfile instructions (not a full parser): comments, `\` continuations, the
/// `# escape=` directive, stages with `AS` names, `--flags`, ARG defaults in FROM.
public enum DockerfileReader {
    static let knownInstructions: Set<String> = [
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER",
        "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
    ]

    public static func read(_ text: String) throws -> [DockerfileStage] {
        let instructions = try instructions(in: text)
        var globalArguments: [String: String] = [:]
        var stages: [DockerfileStage] = []
        var current: (base: String, name: String?, line: Int, body: [DockerfileInstruction])?
        for instruction in instructions {
            if instruction.keyword == "FROM" {
                if let current {
                    stages.append(
                        DockerfileStage(
                            index: stages.count, base: current.base, name: current.name,
                            line: current.line, instructions: current.body))
                }
                let words = instruction.arguments.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard let base = words.first else {
                    throw DockerfileError(line: instruction.line, problem: Message(.dockerfile.fromNeedsImage))
                }
                var name: String?
                if words.count >= 3, words[1].uppercased() == "AS" {
                    name = words[2]
                } else if words.count > 1 {
                    throw DockerfileError(
                        line: instruction.line,
                        problem: Message(.dockerfile.fromTakes, ["arguments": instruction.arguments]))
                }
                current = (substitute(base, globalArguments), name, instruction.line, [])
            } else if current == nil {
                guard instruction.keyword == "ARG" else {
                    throw DockerfileError(
                        line: instruction.line,
                        problem: Message(.dockerfile.beforeFirstFrom, ["keyword": instruction.keyword]))
                }
                let declaration = instruction.arguments.trimmedSpaces
                if let equals = declaration.firstIndex(of: "=") {
                    globalArguments[String(declaration[..<equals])] = String(
                        declaration[declaration.index(after: equals)...]
                    )
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                }
            } else {
                current!.body.append(instruction)
            }
        }
        guard let current else {
            throw DockerfileError(line: max(instructions.last?.line ?? 1, 1), problem: Message(.dockerfile.noFrom))
        }
        stages.append(
            DockerfileStage(
                index: stages.count, base: current.base, name: current.name, line: current.line,
                instructions: current.body))
        return stages
    }

    /// Instructions with continuations joined; unknown keywords are errors, as they are for the engine.
    static func instructions(in text: String) throws -> [DockerfileInstruction] {
        let lines = TextLines.split(text).map { $0.unicodeScalars.last == "\r" ? String($0.dropLast()) : $0 }
        var escape: Character = "\\"
        var result: [DockerfileInstruction] = []
        var pending = ""
        var pendingLine = 0
        var inDirectives = true
        for (offset, rawLine) in lines.enumerated() {
            let trimmed = rawLine.trimmedSpaces
            if inDirectives, trimmed.hasPrefix("#") {
                let directive = trimmed.dropFirst().replacingOccurrences(of: " ", with: "").lowercased()
                if directive.hasPrefix("escape="), let character = directive.dropFirst(7).first { escape = character }
                continue
            }
            inDirectives = false
            if trimmed.hasPrefix("#") || (trimmed.isEmpty && pending.isEmpty) { continue }
            if pending.isEmpty { pendingLine = offset + 1 }
            if trimmed.last == escape {
                pending += String(trimmed.dropLast()) + " "
                continue
            }
            pending += trimmed
            if !pending.trimmedSpaces.isEmpty { result.append(try instruction(pending, line: pendingLine)) }
            pending = ""
        }
        if !pending.trimmedSpaces.isEmpty { result.append(try instruction(pending, line: pendingLine)) }
        return result
    }

    private static func instruction(_ text: String, line: Int) throws -> DockerfileInstruction {
        var rest = Substring(text.trimmedSpaces)
        let keyword = String(rest.prefix { $0 != " " && $0 != "\t" }).uppercased()
        guard knownInstructions.contains(keyword) else {
            throw DockerfileError(line: line, problem: Message(.dockerfile.unknownInstruction, ["keyword": keyword]))
        }
        rest = rest.dropFirst(keyword.count).drop { $0 == " " || $0 == "\t" }
        var flags: [String: String] = [:]
        while rest.hasPrefix("--") {
            let word = rest.prefix { $0 != " " && $0 != "\t" }
            let option = word.dropFirst(2)
            if let equals = option.firstIndex(of: "=") {
                flags[String(option[..<equals])] = String(option[option.index(after: equals)...])
            } else {
                flags[String(option)] = ""
            }
            rest = rest.dropFirst(word.count).drop { $0 == " " || $0 == "\t" }
        }
        return DockerfileInstruction(keyword: keyword, arguments: String(rest), flags: flags, line: line)
    }

    /// `${NAME}` and `$NAME` replaced by ARG defaults declared before the first FROM.
    static func substitute(_ text: String, _ arguments: [String: String]) -> String {
        var result = text
        for (name, value) in arguments {
            result = result.replacingOccurrences(of: "${\(name)}", with: value).replacingOccurrences(
                of: "$\(name)", with: value)
        }
        return result
    }
}
