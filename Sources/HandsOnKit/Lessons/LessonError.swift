import HandsOnEngine
import HandsOnMessages

/// Why a learner's folder cannot be used as it is.
public enum LessonError: Equatable, MessageError {
    case starterWouldOverwrite(folder: String, files: [String])
    case progressDamaged(file: String, reason: String)

    public var message: Message {
        switch self {
        case .starterWouldOverwrite(let folder, let files):
            return Message(
                .lessonError.starterWouldOverwrite, ["folder": folder],
                parts: ["files": Message.list(files.map(Message.literal))])
        case .progressDamaged(let file, let reason):
            return Message(.lessonError.progressDamaged, ["file": file, "reason": reason])
        }
    }
}
