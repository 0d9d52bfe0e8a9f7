import Foundation
import HandsOnKit

/// `handson parse image-ls [FILE]`: any docker or podman image listing (or a transcript holding one) as JSON rows.
struct ParseImageListCommand: Command {
    let spec = CommandSpec(
        ["parse", "image-ls"],
        summary: "Read a docker/podman image listing (or a transcript with one) and print its rows as JSON.",
        arguments: "[FILE]", positionals: 0...1,
        discussion: """
            Reads FILE, or standard input when FILE is absent or '-'. Recognises docker's classic table (also -a,
            --digests, --no-trunc and custom 'table' formats), docker JSON lines, podman tables and podman's JSON
            array, inside other text too. Each row gives sizeBytes and the interval [sizeBytesMin, sizeBytesMax]
            that surely holds the true byte count given how the size was rounded for display.
            Exit 1 when the input holds no listing, naming the first line it could not read.
            """)

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
        summary: "Read what a curl command against a health endpoint printed and say whether it was healthy.",
        arguments: "[FILE]", positionals: 0...1,
        discussion: """
            Reads FILE, or standard input when FILE is absent or '-': stdout and stderr as a terminal showed them
            (body, -w '%{http_code}', -i headers, -v lines, the progress meter, 'curl: (N)' errors, -f failures).
            Prints httpStatus, curlExitCode, error, headers, body and healthy (true, false, or null when the
            transcript holds no evidence either way).
            """)

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
                throw CommandFailure(say("cli.parses.cannotReadSuchFile", ["value": "\(path!)"]))
            }
            data = contents
        }
        guard data.count <= limit else {
            throw CommandFailure(say("cli.parses.inputOverMibRead", ["value": "\(limit >> 20)"]))
        }
        return String(decoding: data, as: UTF8.self)
    }
}
