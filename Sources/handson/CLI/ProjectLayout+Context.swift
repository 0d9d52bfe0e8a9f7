import HandsOnEngine
import HandsOnKit

extension ProjectLayout {
    /// The course files for a command, or the error that says how to find them.
    static func require(in context: CommandContext) throws -> ProjectLayout {
        guard let layout = locate(environment: context.environment, currentDirectory: context.currentDirectory) else {
            throw SupportError.courseFilesNotFound
        }
        return layout
    }
}
