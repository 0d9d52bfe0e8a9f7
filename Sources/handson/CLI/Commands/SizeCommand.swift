import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnKit
import HandsOnMessages

/// `handson size IMAGE`: the size HandsOn measures from the image's layers, the engine's listing beside it, and
/// where the bytes are: layer by layer, the largest paths, and what later layers hid.
struct SizeCommand: Command {
    let spec = CommandSpec(
        ["size"],
        summary: "help.size.summary",
        arguments: "<image>", positionals: 1...1,
        options: [
            .engine, .json,
            OptionSpec(
                .base, value: "image",
                help: "help.size.option.base"), LessonSession.languageOption,
        ],
        discussion: "help.size.discussion")

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let engine = try await EngineOption.engine(from: arguments, in: context)
        let reference = arguments.positionals[0]
        guard let resolved = await engine.resolveImage(reference) else {
            context.io.err(say(.cli.size.image, ["reference": "\(reference)", "kind": "\(engine.kind.rawValue)"]))
            return ExitCode.failure
        }
        let report = try await engine.sizeReport(
            resolved, store: await engine.cachedInfo()?.store, bases: arguments.value(.base).map { [$0] } ?? [])
        if arguments.has(.json) {
            context.io.out(try JSONOutput.encode(report))
        } else {
            for line in SizeTable(report: report, style: context.io.outputStyle).lines(reference: reference) {
                context.io.out(line)
            }
        }
        return ExitCode.success
    }
}

/// `handson size` as text: a summary, the layers, the largest paths and the waste, within 100 columns.
struct SizeTable {
    let report: ImageSizeReport
    let style: TextStyle

    func lines(reference: String) -> [String] {
        let summary = [
            "reference": style.bold(reference), "size": report.size, "bytes": report.sizeBytes.formatted(.number),
            "layers": "\(report.layers.count)",
        ]
        var lines = [say(report.layers.count == 1 ? .size.table.summaryOneLayer : .size.table.summary, summary)]
        lines.append(
            style.dim(
                report.engineListedNote ?? say(.size.table.engineListsToo, ["listed": report.engineListed ?? "?"])))
        var parts: [String] = []
        if let base = report.baseImage {
            parts.append(
                say(
                    .size.table.baseImage,
                    [
                        "base": base, "bytes": ByteFormatting.decimal(report.baseBytes),
                        "percent": percent(report.baseBytes),
                    ]
                ))
        }
        parts.append(say(.size.table.ownLayers, ["bytes": ByteFormatting.decimal(report.ownBytes)]))
        parts.append(
            say(
                .size.table.wasted,
                [
                    "bytes": ByteFormatting.decimal(report.wastedBytes),
                    "efficiency": String(format: "%.1f%%", report.efficiency * 100),
                ]))
        lines.append(parts.joined(separator: "   "))

        lines.append("")
        lines.append(
            style.bold(
                row(
                    [
                        say(.size.table.layer), say(.size.table.size), say(.size.table.from),
                        say(.size.table.instruction),
                    ],
                    widths: [8, 8, 20, 60], rightAlignedUpTo: 2)))
        for (index, layer) in report.layers.enumerated() {
            let from = layer.fromBase ? (report.baseImage ?? say(.size.table.base)) : ""
            let instruction = layer.instruction ?? "?"
            lines.append(
                row(
                    [String(index + 1), ByteFormatting.decimal(layer.fileBytes), from, instruction],
                    widths: [8, 8, 20, 60], rightAlignedUpTo: 2))
        }
        if !report.largest.isEmpty {
            lines.append("")
            lines.append(
                style.bold(
                    row(
                        [say(.size.table.largestPaths), say(.size.table.size), say(.size.table.layer)],
                        widths: [78, 8, 8], rightAlignedFrom: 1)))
            for path in report.largest {
                let name = path.path + (path.isDirectory ? "/" : "")
                lines.append(
                    row(
                        [name, ByteFormatting.decimal(path.bytes), String(path.layer)], widths: [78, 8, 8],
                        rightAlignedFrom: 1))
            }
        }
        if !report.wasted.isEmpty {
            lines.append("")
            lines.append(
                style.bold(
                    row(
                        [
                            say(.size.table.wastedFiles), say(.size.table.size), say(.size.table.added),
                            say(.size.table.hidden),
                        ],
                        widths: [73, 8, 5, 6], rightAlignedFrom: 1)))
            for file in report.wasted {
                lines.append(
                    row(
                        [file.path, ByteFormatting.decimal(file.bytes), String(file.addedBy), String(file.hiddenBy)],
                        widths: [73, 8, 5, 6], rightAlignedFrom: 1))
            }
        }
        return lines
    }

    private func percent(_ bytes: Int64) -> String {
        String(format: "%.0f%%", Double(bytes) / Double(max(report.sizeBytes, 1)) * 100)
    }

    /// Cells padded to `widths` and cut to fit (with "…"); cells from `rightAlignedFrom` on, or before
    /// `rightAlignedUpTo`, are right-aligned. One space between cells: at most 100 columns with the widths used here.
    private func row(_ cells: [String], widths: [Int], rightAlignedFrom: Int = Int.max, rightAlignedUpTo: Int = 0)
        -> String
    {
        zip(cells, widths).enumerated().map { index, pair in
            let (cell, width) = pair
            // Widths in terminal cells: a Japanese or Korean character takes two.
            var text = cell
            if text.terminalWidth > width {
                while text.terminalWidth > width - 1 { text.removeLast() }
                text += "…"
            }
            let padding = String(repeating: " ", count: max(0, width - text.terminalWidth))
            let right = index >= rightAlignedFrom || index < rightAlignedUpTo
            return right ? padding + text : (index == cells.count - 1 ? text : text + padding)
        }.joined(separator: " ")
    }
}
