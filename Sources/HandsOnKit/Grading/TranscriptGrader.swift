import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnMessages

/// Grades a pasted answer (text or Markdown with `docker image ls` / `podman images` listings and curl results, as
/// contestants write in reports): the listed size of the answer image scored by the tiers, the gates that text
/// can show (a healthy curl, an expected output line), and the rest listed as not verifiable. `verified` is false.
public struct TranscriptGrader: Sendable {
    public let chapter: Chapter
    public let grading: Grading

    public init?(chapter: Chapter) {
        guard let grading = chapter.grading else { return nil }
        self.chapter = chapter
        self.grading = grading
    }

    public func grade(_ text: String, name: String) -> GradeReport {
        var checks: [CheckResult] = []
        func report(score: Int = 0, tier: SizeTier? = nil, image: GradeReport.ImageSize? = nil) -> GradeReport {
            var report = GradeReport(
                submission: name, chapter: chapter.id, score: score, tier: tier, image: image, checks: checks,
                engine: nil, durationSeconds: 0, status: .graded)
            report.verified = false
            return report
        }
        let rows: [ImageListingRow]
        do { rows = try ImageListingParser.parse(text) } catch {
            checks.append(
                CheckResult(
                    id: "listing", passed: false,
                    reason: Message(
                        .transcriptGrader.imageListingTranscriptError, parts: ["error": Message(describing: error)])))
            return report()
        }
        guard let row = answerRow(in: rows) else {
            let wanted =
                grading.transcriptImages.isEmpty
                ? Message(.transcriptGrader.oneImage)
                : Message.list(grading.transcriptImages.map(Message.literal), separator: .list.orSeparator)
            checks.append(
                CheckResult(
                    id: "listing", passed: false,
                    reason: Message(
                        .transcriptGrader.listingShowsCompactmapWanted,
                        ["compactMap": "\(rows.compactMap(\.reference).joined(separator: ", "))"],
                        parts: ["wanted": wanted])))
            return report()
        }
        guard let shown = row.size, let estimate = row.estimate,
            let outcome = grading.sizeTiers.evaluate(MeasuredSize(exactBytes: estimate.bytes, displayed: shown))
        else {
            checks.append(
                CheckResult(
                    id: "size", passed: false,
                    reason: Message(
                        .transcriptGrader.sizeUnreadable, ["line": "\(row.line)"],
                        parts: ["image": row.reference.map(Message.literal) ?? Message(.transcriptGrader.theImage)])))
            return report()
        }
        checks.append(
            CheckResult(
                id: "listing", passed: true,
                reason: Message(
                    .transcriptGrader.listedAt, ["line": "\(row.line)", "size": shown],
                    parts: ["image": row.reference.map(Message.literal) ?? Message(.transcriptGrader.untagged)]),
                measured: shown))
        let gates = grading.gates.map { judge($0, in: text) }
        checks += gates.map(\.result)
        let blocked = gates.contains { $0.verifiable && !$0.result.passed }
        checks.append(
            CheckResult(
                id: "size", passed: outcome.score > 0,
                reason: outcome.reason + (blocked ? Message(.transcriptGrader.awardedGateFailed) : nil),
                measured: shown))
        let image = GradeReport.ImageSize(sizeBytes: estimate.bytes, size: shown, basis: grading.basis)
        return report(score: blocked ? 0 : outcome.score, tier: blocked ? nil : outcome.tier, image: image)
    }

    /// The row of the first preferred image that the listing shows, or the only row.
    func answerRow(in rows: [ImageListingRow]) -> ImageListingRow? {
        for wanted in grading.transcriptImages.map(ImageReference.init) {
            if let row = rows.last(where: { $0.reference.map(ImageReference.init) == wanted }) { return row }
        }
        return rows.count == 1 ? rows[0] : nil
    }

    private func judge(_ gate: CheckSpec, in text: String) -> (result: CheckResult, verifiable: Bool) {
        func unverifiable(_ why: Message) -> (CheckResult, Bool) {
            (
                CheckResult(
                    id: gate.id, passed: false,
                    reason: Message(.transcriptGrader.verifiableFromTranscriptWhy, parts: ["why": why])), false
            )
        }
        switch gate.kind {
        case .imageServes, .http:
            let results = Self.curlBlocks(in: text).map(CurlTranscriptParser.parse)
            guard let last = results.last(where: { $0.healthy != nil }) else {
                return unverifiable(Message(.transcriptGrader.showsCurlResult))
            }
            let shown = last.body ?? last.error ?? last.httpStatus.map(String.init) ?? ""
            return last.healthy == true
                ? (
                    CheckResult(
                        id: gate.id, passed: true, reason: Message(.transcriptGrader.transcriptShowsCurlAnswered),
                        measured: shown), true
                )
                : (
                    CheckResult(
                        id: gate.id, passed: false,
                        reason: Message(.transcriptGrader.transcriptShowsCurlDid, ["shown": "\(shown)"]),
                        measured: shown),
                    true
                )
        case .commandOutput(let expectation):
            guard let expected = expectation.equals else {
                return unverifiable(Message(.transcriptGrader.exactOutputLook))
            }
            let lines = TextLines.split(text).map { $0.trimmedSpaces }
            if lines.contains(expected) {
                return (
                    CheckResult(
                        id: gate.id, passed: true, reason: Message(.transcriptGrader.transcriptShowsExpectedOutput),
                        measured: expected), true
                )
            }
            return unverifiable(Message(.transcriptGrader.expectedOutputDoesAppear))
        case .fileUnchanged(let path, _):
            return unverifiable(Message(.transcriptGrader.pathTranscript, ["path": "\(path)"]))
        default:
            return unverifiable(Message(.transcriptGrader.onlyEngineCanCheck, ["id": "\(gate.id)"]))
        }
    }

    /// The text after each `$ curl ...` prompt line, up to the next prompt.
    static func curlBlocks(in text: String) -> [String] {
        var blocks: [String] = []
        var current: [String]?
        for line in TextLines.split(text) {
            let trimmed = line.trimmedSpaces
            let isPrompt = trimmed.hasPrefix("$ ") || trimmed.hasPrefix("% ") || trimmed.hasPrefix("```")
            if isPrompt {
                if let block = current { blocks.append(block.joined(separator: "\n")) }
                current = trimmed.dropFirst(2).trimmedSpaces.hasPrefix("curl") ? [line] : nil
            } else {
                current?.append(line)
            }
        }
        if let block = current { blocks.append(block.joined(separator: "\n")) }
        return blocks
    }
}
