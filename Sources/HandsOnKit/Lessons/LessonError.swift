/// Why a learner's folder cannot be used as it is.
public enum LessonError: Error, Equatable, CustomStringConvertible {
    case starterWouldOverwrite(folder: String, files: [String])
    case progressDamaged(file: String, reason: String)

    public var description: String {
        switch self {
        case .starterWouldOverwrite(let folder, let files):
            return
                "\(folder) already has \(files.joined(separator: ", ")); use an empty folder so nothing is overwritten"
        case .progressDamaged(let file, let reason):
            return "\(file) is damaged (\(reason)); move it away or run `handson reset` to start the chapter again"
        }
    }
}
