import HandsOnMessages

/// Why a learner's folder cannot be used as it is.
public enum LessonError: Error, Equatable, CustomStringConvertible {
    case starterWouldOverwrite(folder: String, files: [String])
    case progressDamaged(file: String, reason: String)

    public var description: String {
        switch self {
        case .starterWouldOverwrite(let folder, let files):
            return say(
                .lessonError.starterWouldOverwrite, ["folder": folder, "files": MessageCatalog.list(files)])
        case .progressDamaged(let file, let reason):
            return say(.lessonError.progressDamaged, ["file": file, "reason": reason])
        }
    }
}
