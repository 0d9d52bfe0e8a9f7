import Foundation
import HandsOnEngine
import HandsOnMessages

/// Reads and validates chapters: `Chapters/<id>/chapter.json` plus the files it names.
public enum ChapterLoader {
    public static let fileName = "chapter.json"

    /// Every chapter folder under `directory`, in name order; broken chapters are reported, not fatal.
    public static func loadAll(from directory: String) -> (chapters: [Chapter], errors: [ChapterError]) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        var chapters: [Chapter] = []
        var errors: [ChapterError] = []
        for name in names where FileManager.default.fileExists(atPath: "\(directory)/\(name)/\(fileName)") {
            do { chapters.append(try load(from: "\(directory)/\(name)")) } catch let error as ChapterError {
                errors.append(error)
            } catch {
                errors.append(
                    ChapterError(
                        file: "\(directory)/\(name)/\(fileName)", keyPath: "", problem: Message(describing: error)))
            }
        }
        return (chapters, errors)
    }

    public static func load(id: String, chaptersDirectory: String) throws -> Chapter {
        let directory = "\(chaptersDirectory)/\(id)"
        guard FileManager.default.fileExists(atPath: "\(directory)/\(fileName)") else {
            let known = loadAll(from: chaptersDirectory).chapters.map(\.id)
            throw ChapterError(
                file: chaptersDirectory, keyPath: "",
                problem: known.isEmpty
                    ? Message(.chapterError.noChapter, ["id": id])
                    : Message(.chapterError.noChapterKnown, ["id": id, "known": known.joined(separator: ", ")]))
        }
        return try load(from: directory)
    }

    public static func load(from directory: String) throws -> Chapter {
        let file = "\(directory)/\(fileName)"
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ChapterError(file: file, keyPath: "", problem: Message(.chapterError.cannotBeRead))
        }
        var chapter: Chapter
        do {
            chapter = try JSONDecoder().decode(Chapter.self, from: data)
        } catch let error as DecodingError {
            throw ChapterError.from(error, file: file)
        }
        chapter.directory = directory
        try validate(chapter, file: file)
        return chapter
    }

    /// What decoding cannot see: ids, step order, referenced files, sensible tiers.
    static func validate(_ chapter: Chapter, file: String) throws {
        func fail(_ keyPath: String, _ problem: Message) -> ChapterError {
            ChapterError(file: file, keyPath: keyPath, problem: problem)
        }
        let folderName = (chapter.directory as NSString).lastPathComponent
        guard chapter.id == folderName else {
            throw fail("id", Message(.chapterError.idMustMatchFolder, ["id": chapter.id, "folder": folderName]))
        }
        guard !chapter.steps.isEmpty else { throw fail("steps", Message(.chapterError.needsAStep)) }
        func exists(_ relative: String) -> Bool {
            FileManager.default.fileExists(atPath: "\(chapter.directory)/\(relative)")
        }
        guard exists(chapter.starter.directory) else {
            throw fail("starter.directory", Message(.chapterError.doesNotExist, ["path": chapter.starter.directory]))
        }
        for (index, protected) in chapter.starter.protectedFiles.enumerated()
        where !exists("\(chapter.starter.directory)/\(protected)") {
            throw fail("starter.protectedFiles[\(index)]", Message(.chapterError.notInStarter, ["path": protected]))
        }
        for (destination, source) in chapter.starter.files.sorted(by: { $0.key < $1.key }) where !exists(source) {
            throw fail("starter.files.\(destination)", Message(.chapterError.doesNotExist, ["path": source]))
        }
        var seen: Set<String> = []
        for (index, step) in chapter.steps.enumerated() {
            let at = "steps[\(index)]"
            guard seen.insert(step.id).inserted else {
                throw fail("\(at).id", Message(.chapterError.stepIDUsed, ["id": step.id]))
            }
            for (needIndex, need) in step.needs.enumerated() where !seen.contains(need) || need == step.id {
                throw fail("\(at).needs[\(needIndex)]", Message(.chapterError.notEarlierStep, ["id": need]))
            }
            for (language, path) in step.text.translations.sorted(by: { $0.key < $1.key }) where !exists(path) {
                throw fail("\(at).text.\(language)", Message(.chapterError.doesNotExist, ["path": path]))
            }
            for (destination, source) in step.solution.files.sorted(by: { $0.key < $1.key }) where !exists(source) {
                throw fail(
                    "\(at).solution.files.\(destination)", Message(.chapterError.doesNotExist, ["path": source]))
            }
            var checkIDs: Set<String> = []
            for (checkIndex, check) in step.checks.enumerated() {
                guard checkIDs.insert(check.id.rawValue).inserted else {
                    throw fail(
                        "\(at).checks[\(checkIndex)].id",
                        Message(.chapterError.checkIDUsedTwice, ["id": check.id.rawValue]))
                }
                try validate(check, at: "\(at).checks[\(checkIndex)]", fail: fail)
            }
            for (hintIndex, hint) in step.hints.enumerated() {
                if let check = hint.whenFailing, !checkIDs.contains(check) {
                    throw fail(
                        "\(at).hints[\(hintIndex)].whenFailing", Message(.chapterError.notACheckOfStep, ["id": check]))
                }
            }
        }
        if let grading = chapter.grading {
            if grading.measure == .size {
                try validate(grading.tiers, at: "grading.tiers", fail: fail)
            }
            for (index, tier) in grading.findingTiers.enumerated() {
                if !(0...100).contains(tier.score) {
                    throw fail("grading.findingTiers[\(index)].score", Message(.chapterError.mustBeScore))
                }
                if tier.maxFindings < 0 {
                    throw fail("grading.findingTiers[\(index)].maxFindings", Message(.chapterError.mustBeZeroOrMore))
                }
                if let secrets = tier.maxSecrets, secrets < 0 {
                    throw fail("grading.findingTiers[\(index)].maxSecrets", Message(.chapterError.mustBeZeroOrMore))
                }
            }
            for (index, tier) in grading.rebuildTiers.enumerated() {
                if !(0...100).contains(tier.score) {
                    throw fail("grading.rebuildTiers[\(index)].score", Message(.chapterError.mustBeScore))
                }
                if tier.maxPercent < 1 {
                    throw fail("grading.rebuildTiers[\(index)].maxPercent", Message(.chapterError.mustBeOneOrMore))
                }
            }
            for (index, aim) in grading.rebuildAims.enumerated() {
                if !(0...100).contains(aim.points) {
                    throw fail("grading.rebuildAims[\(index)].points", Message(.chapterError.mustBeScore))
                }
                if case .buildContext(let maxBytes, let absentPaths) = aim.kind {
                    try validate(
                        CheckSpec(
                            id: aim.id,
                            kind: .buildContext(
                                BuildContextRules(
                                    maxBytes: maxBytes, absentPaths: absentPaths, dockerfile: grading.dockerfile))),
                        at: "grading.rebuildAims[\(index)]", fail: fail)
                }
            }
            let best = grading.rebuildAims.map(\.points).reduce(0, +) + (grading.rebuildTiers.map(\.score).max() ?? 0)
            if grading.measure == .rebuildPercent && best > 100 {
                throw fail("grading.rebuildAims", Message(.chapterError.mustBeScore))
            }
            for (index, gate) in grading.gates.enumerated() {
                try validate(gate, at: "grading.gates[\(index)]", fail: fail)
            }
            for (index, example) in grading.examples.enumerated() {
                for (destination, source) in example.files.sorted(by: { $0.key < $1.key }) where !exists(source) {
                    throw fail(
                        "grading.examples[\(index)].files.\(destination)",
                        Message(.chapterError.doesNotExist, ["path": source]))
                }
                let scores =
                    [0] + grading.tiers.map(\.score) + grading.findingTiers.map(\.score)
                    + grading.rebuildScores
                if !scores.contains(example.score) {
                    throw fail(
                        "grading.examples[\(index)].score",
                        Message(.chapterError.notATierScore, ["score": "\(example.score)"]))
                }
            }
        }
    }

    private static func validate(_ check: CheckSpec, at keyPath: String, fail: (String, Message) -> ChapterError) throws
    {
        switch check.kind {
        case .imageSize(let bounds):
            if bounds.atMostFractionOf != nil && bounds.fraction == nil {
                throw fail("\(keyPath).fraction", Message(.chapterError.fractionMissing))
            }
            if bounds.atMostBytes == nil && bounds.atLeastBytes == nil && bounds.smallerThan == nil
                && bounds.atMostFractionOf == nil
            {
                throw fail(keyPath, Message(.chapterError.imageSizeNeeds))
            }
        case .imageTiers(_, let tiers, _):
            try validate(tiers.tiers, at: "\(keyPath).tiers", fail: fail)
        case .imageContents(let rules):
            if rules.absentPaths.isEmpty && rules.maxWastedBytes == nil {
                throw fail(keyPath, Message(.chapterError.imageContentsNeeds))
            }
            if let path = rules.absentPaths.first(where: {
                !$0.hasPrefix("/") || $0.split(separator: "/").count > ImageSizeMeasurement.pathDepth
            }) {
                throw fail(
                    "\(keyPath).absentPaths",
                    Message(.chapterError.absolutePath, ["path": path, "depth": "\(ImageSizeMeasurement.pathDepth)"]))
            }
        case .buildContext(let rules):
            if rules.absentPaths.isEmpty && rules.maxBytes == nil {
                throw fail(keyPath, Message(.chapterError.buildContextNeeds))
            }
            if let path = rules.absentPaths.first(where: { $0.hasPrefix("/") || $0.dropLast().contains("/") }) {
                throw fail("\(keyPath).absentPaths", Message(.chapterError.topLevelName, ["path": path]))
            }
        case .rebuild(let rules):
            if rules.editFile.hasPrefix("/") || rules.editFile.split(separator: "/").contains("..") {
                throw fail("\(keyPath).editFile", Message(.chapterError.pathInsideAnswer, ["path": rules.editFile]))
            }
            if let limit = rules.maxPercent, !(1...100).contains(limit) {
                throw fail("\(keyPath).maxPercent", Message(.chapterError.mustBePercent))
            }
        case .commandOutput(let expectation):
            if let pattern = expectation.matches, (try? NSRegularExpression(pattern: pattern)) == nil {
                throw fail("\(keyPath).matches", Message(.chapterError.notARegex))
            }
        default:
            break
        }
    }

    private static func validate(_ tiers: [SizeTier], at keyPath: String, fail: (String, Message) -> ChapterError)
        throws
    {
        guard !tiers.isEmpty else { throw fail(keyPath, Message(.chapterError.needsATier)) }
        for (index, tier) in tiers.enumerated() {
            if !(0...100).contains(tier.score) {
                throw fail("\(keyPath)[\(index)].score", Message(.chapterError.mustBeScore))
            }
            if tier.maxBytes <= 0 {
                throw fail("\(keyPath)[\(index)].maxBytes", Message(.chapterError.mustBePositive))
            }
        }
    }
}
