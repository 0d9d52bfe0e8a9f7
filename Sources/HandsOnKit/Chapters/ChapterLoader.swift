import Foundation

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
                errors.append(ChapterError(file: "\(directory)/\(name)/\(fileName)", keyPath: "", message: "\(error)"))
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
                message: known.isEmpty
                    ? say("chapterError.noChapter", ["id": id])
                    : say("chapterError.noChapterKnown", ["id": id, "known": MessageCatalog.list(known)]))
        }
        return try load(from: directory)
    }

    public static func load(from directory: String) throws -> Chapter {
        let file = "\(directory)/\(fileName)"
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ChapterError(file: file, keyPath: "", message: say("chapterError.cannotBeRead"))
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
        func fail(_ keyPath: String, _ message: String) -> ChapterError {
            ChapterError(file: file, keyPath: keyPath, message: message)
        }
        let folderName = (chapter.directory as NSString).lastPathComponent
        guard chapter.id == folderName else {
            throw fail("id", "'\(chapter.id)' must match the folder name '\(folderName)'")
        }
        guard !chapter.steps.isEmpty else { throw fail("steps", "a chapter needs at least one step") }
        func exists(_ relative: String) -> Bool {
            FileManager.default.fileExists(atPath: "\(chapter.directory)/\(relative)")
        }
        guard exists(chapter.starter.directory) else {
            throw fail("starter.directory", "'\(chapter.starter.directory)' does not exist")
        }
        for (index, protected) in chapter.starter.protectedFiles.enumerated()
        where !exists("\(chapter.starter.directory)/\(protected)") {
            throw fail("starter.protectedFiles[\(index)]", "'\(protected)' is not in the starter")
        }
        for (destination, source) in chapter.starter.files.sorted(by: { $0.key < $1.key }) where !exists(source) {
            throw fail("starter.files.\(destination)", "'\(source)' does not exist")
        }
        var seen: Set<String> = []
        for (index, step) in chapter.steps.enumerated() {
            let at = "steps[\(index)]"
            guard seen.insert(step.id).inserted else {
                throw fail("\(at).id", "'\(step.id)' is used by an earlier step")
            }
            for (needIndex, need) in step.needs.enumerated() where !seen.contains(need) || need == step.id {
                throw fail("\(at).needs[\(needIndex)]", "'\(need)' is not an earlier step")
            }
            for (language, path) in step.text.translations.sorted(by: { $0.key < $1.key }) where !exists(path) {
                throw fail("\(at).text.\(language)", "'\(path)' does not exist")
            }
            for (destination, source) in step.solution.files.sorted(by: { $0.key < $1.key }) where !exists(source) {
                throw fail("\(at).solution.files.\(destination)", "'\(source)' does not exist")
            }
            var checkIDs: Set<String> = []
            for (checkIndex, check) in step.checks.enumerated() {
                guard checkIDs.insert(check.id.rawValue).inserted else {
                    throw fail("\(at).checks[\(checkIndex)].id", "'\(check.id)' is used twice in this step")
                }
                try validate(check, at: "\(at).checks[\(checkIndex)]", fail: fail)
            }
            for (hintIndex, hint) in step.hints.enumerated() {
                if let check = hint.whenFailing, !checkIDs.contains(check) {
                    throw fail("\(at).hints[\(hintIndex)].whenFailing", "'\(check)' is not a check of this step")
                }
            }
        }
        if let grading = chapter.grading {
            if grading.measure == .size {
                try validate(grading.tiers, at: "grading.tiers", fail: fail)
            }
            for (index, tier) in grading.findingTiers.enumerated() {
                if !(0...100).contains(tier.score) {
                    throw fail("grading.findingTiers[\(index)].score", "must be 0 to 100")
                }
                if tier.maxFindings < 0 {
                    throw fail("grading.findingTiers[\(index)].maxFindings", "must be 0 or more")
                }
            }
            for (index, tier) in grading.rebuildTiers.enumerated() {
                if !(0...100).contains(tier.score) {
                    throw fail("grading.rebuildTiers[\(index)].score", "must be 0 to 100")
                }
                if tier.maxPercent < 1 {
                    throw fail("grading.rebuildTiers[\(index)].maxPercent", "must be 1 or more")
                }
            }
            for (index, gate) in grading.gates.enumerated() {
                try validate(gate, at: "grading.gates[\(index)]", fail: fail)
            }
            for (index, example) in grading.examples.enumerated() {
                for (destination, source) in example.files.sorted(by: { $0.key < $1.key }) where !exists(source) {
                    throw fail("grading.examples[\(index)].files.\(destination)", "'\(source)' does not exist")
                }
                let scores =
                    [0] + grading.tiers.map(\.score) + grading.findingTiers.map(\.score)
                    + grading.rebuildTiers.map(\.score)
                if !scores.contains(example.score) {
                    throw fail("grading.examples[\(index)].score", "\(example.score) is not a score the tiers give")
                }
            }
        }
    }

    private static func validate(_ check: CheckSpec, at keyPath: String, fail: (String, String) -> ChapterError) throws
    {
        switch check.kind {
        case .imageSize(let bounds):
            if bounds.atMostFractionOf != nil && bounds.fraction == nil {
                throw fail("\(keyPath).fraction", "missing (needed with atMostFractionOf)")
            }
            if bounds.atMostBytes == nil && bounds.atLeastBytes == nil && bounds.smallerThan == nil
                && bounds.atMostFractionOf == nil
            {
                throw fail(
                    keyPath, "an imageSize check needs atMostBytes, atLeastBytes, smallerThan or atMostFractionOf")
            }
        case .imageTiers(_, let tiers, _):
            try validate(tiers.tiers, at: "\(keyPath).tiers", fail: fail)
        case .imageContents(let rules):
            if rules.absentPaths.isEmpty && rules.maxWastedBytes == nil {
                throw fail(keyPath, "an imageContents check needs absentPaths or maxWastedBytes")
            }
            if let path = rules.absentPaths.first(where: {
                !$0.hasPrefix("/") || $0.split(separator: "/").count > ImageSizeMeasurement.pathDepth
            }) {
                throw fail(
                    "\(keyPath).absentPaths",
                    "'\(path)' must be absolute and at most \(ImageSizeMeasurement.pathDepth) levels deep")
            }
        case .buildContext(let rules):
            if rules.absentPaths.isEmpty && rules.maxBytes == nil {
                throw fail(keyPath, "a buildContext check needs absentPaths or maxBytes")
            }
            if let path = rules.absentPaths.first(where: { $0.hasPrefix("/") || $0.dropLast().contains("/") }) {
                throw fail("\(keyPath).absentPaths", "'\(path)' must be a top-level name of the context")
            }
        case .rebuild(let rules):
            if rules.editFile.hasPrefix("/") || rules.editFile.split(separator: "/").contains("..") {
                throw fail("\(keyPath).editFile", "'\(rules.editFile)' must be a path inside the answer")
            }
            if let limit = rules.maxPercent, !(1...100).contains(limit) {
                throw fail("\(keyPath).maxPercent", "must be 1 to 100")
            }
        case .commandOutput(let expectation):
            if let pattern = expectation.matches, (try? NSRegularExpression(pattern: pattern)) == nil {
                throw fail("\(keyPath).matches", "not a valid regular expression")
            }
        default:
            break
        }
    }

    private static func validate(_ tiers: [SizeTier], at keyPath: String, fail: (String, String) -> ChapterError) throws
    {
        guard !tiers.isEmpty else { throw fail(keyPath, "needs at least one tier") }
        for (index, tier) in tiers.enumerated() {
            if !(0...100).contains(tier.score) { throw fail("\(keyPath)[\(index)].score", "must be 0 to 100") }
            if tier.maxBytes <= 0 { throw fail("\(keyPath)[\(index)].maxBytes", "must be positive") }
        }
    }
}
