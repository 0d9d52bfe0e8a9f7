import Foundation

/// `handson size IMAGE`: the size HandsOn measures from the image's layers, with the engine's listing beside it.
struct SizeCommand: Command {
    let spec = CommandSpec(
        ["size"], summary: "Measure an image from its layers (the size every grade uses), beside the engine's own listing.",
        arguments: "<image>", positionals: 1...1, options: [.engine, .json],
        discussion: """
            The size is the bytes of the files in each layer, summed over the layers, as Docker's overlay2 store
            counts them and `docker image ls` shows them there: the same figure on every engine and store. It is
            read from the image itself (`image save`, streamed), so the first measurement of a large image takes
            a few seconds; the result is remembered by image id.
            """)

    func run(_ arguments: ParsedArguments, in context: CommandContext) throws -> Int32 {
        let engine = try EngineOption.engine(from: arguments, in: context)
        let reference = arguments.positionals[0]
        guard let resolved = engine.resolveImage(reference) else {
            context.io.err("\(reference) is not an image on \(engine.kind.rawValue)")
            return ExitCode.failure
        }
        let report = try engine.sizeReport(resolved, store: try? engine.info().store)
        if arguments.has("--json") {
            context.io.out(try JSONOutput.encode(report))
            return ExitCode.success
        }
        let style = context.io.outputStyle
        context.io.out("\(style.bold(reference)): \(report.size) (\(report.sizeBytes.formatted(.number)) bytes of files in \(report.layers.count) layers)")
        if let listed = report.engineListed {
            context.io.out(report.engineListedNote.map { style.dim($0) } ?? style.dim("the engine lists \(listed) too"))
        }
        for (index, layer) in report.layers.enumerated() {
            let stored = layer.compressed ? "  (\(ByteFormatting.decimal(layer.storedBytes)) compressed)" : ""
            context.io.out(String(format: "  %3d  %9@", index + 1, ByteFormatting.decimal(layer.fileBytes)) + style.dim(stored))
        }
        return ExitCode.success
    }
}
