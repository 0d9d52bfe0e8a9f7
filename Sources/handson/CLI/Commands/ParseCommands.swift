import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnKit
import HandsOnMessages

/// A `handson parse KIND [FILE]` command: one file (or standard input) read as one kind of output, printed as JSON.
protocol ParseCommand: Command {
    /// The kind of output it reads, as its command names it (`image-ls`).
    static var kind: String { get }
    /// The JSON for what `text` holds.
    func json(from text: String) throws -> String
}

extension ParseCommand {
    var spec: CommandSpec {
        CommandSpec(
            ["parse", Self.kind], summary: "help.parse.\(Self.kind).summary", arguments: "[FILE]", positionals: 0...1,
            discussion: "help.parse.\(Self.kind).discussion")
    }

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        context.io.out(try json(from: InputText.read(arguments.positionals.first, in: context)))
        return ExitCode.success
    }
}

/// `handson parse image-ls [FILE]`: any docker or podman image listing (or a transcript holding one) as JSON rows.
struct ParseImageListCommand: ParseCommand {
    static let kind = "image-ls"

    func json(from text: String) throws -> String {
        do {
            return ImageListingRow.jsonArray(try ImageListingParser.parse(text))
        } catch let error as ListingParseError {
            throw CommandFailure(error.description)
        }
    }
}

/// `handson parse curl [FILE]`: what one curl command against a health endpoint showed, as JSON.
struct ParseCurlCommand: ParseCommand {
    static let kind = "curl"

    func json(from text: String) throws -> String { try JSONOutput.encode(CurlTranscriptParser.parse(text)) }
}

/// Reads a command's input file, or standard input for none or `-`.
enum InputText {
    static let limit = 64 << 20

    static func read(_ path: String?, in context: CommandContext) throws -> String {
        let data: Data
        if path == nil || path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            let absolute = context.absolutePath(path!)
            guard let contents = FileManager.default.contents(atPath: absolute) else {
                throw CommandFailure(say(.cli.parses.cannotReadSuchFile, ["value": "\(path!)"]))
            }
            data = contents
        }
        guard data.count <= limit else {
            throw CommandFailure(say(.cli.parses.inputOverMibRead, ["value": "\(limit >> 20)"]))
        }
        return String(decoding: data, as: UTF8.self)
    }
}
