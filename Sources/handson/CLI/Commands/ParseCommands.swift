import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnKit
import HandsOnMessages

/// `handson parse image-ls [FILE]`: any docker or podman image listing (or a transcript holding one) as JSON rows.
struct ParseImageListCommand: Command {
    let spec = CommandSpec(
        ["parse", "image-ls"],
        summary: "help.parse.image-ls.summary",
        arguments: "[FILE]", positionals: 0...1,
        discussion: "help.parse.image-ls.discussion")

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let text = try InputText.read(arguments.positionals.first, in: context)
        do {
            let rows = try ImageListingParser.parse(text)
            context.io.out(ImageListingRow.jsonArray(rows))
            return ExitCode.success
        } catch let error as ListingParseError {
            throw CommandFailure(error.description)
        }
    }
}

/// `handson parse curl [FILE]`: what one curl command against a health endpoint showed, as JSON.
struct ParseCurlCommand: Command {
    let spec = CommandSpec(
        ["parse", "curl"],
        summary: "help.parse.curl.summary",
        arguments: "[FILE]", positionals: 0...1,
        discussion: "help.parse.curl.discussion")

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let text = try InputText.read(arguments.positionals.first, in: context)
        context.io.out(try JSONOutput.encode(CurlTranscriptParser.parse(text)))
        return ExitCode.success
    }
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
