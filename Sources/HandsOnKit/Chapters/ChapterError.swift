import Foundation
import HandsOnEngine
import HandsOnMessages

/// A chapter that cannot be used: the file, the key path inside it, and what is wrong.
public struct ChapterError: Error, Equatable, CustomStringConvertible {
    public let file: String
    /// `steps[2].checks[0].tiers`, or empty for the file as a whole.
    public let keyPath: String
    public let problem: Message

    /// What is wrong, in the current language.
    public var message: String { problem.text() }

    public var description: String { keyPath.isEmpty ? "\(file): \(message)" : "\(file): \(keyPath): \(message)" }

    /// Says what a JSONDecoder error means, with the key path where it happened.
    static func from(_ error: DecodingError, file: String) -> ChapterError {
        switch error {
        case .typeMismatch(let type, let context):
            return ChapterError(
                file: file, keyPath: path(context.codingPath),
                problem: Message(.chapterError.expected, parts: ["type": describe(type)]))
        case .valueNotFound(let type, let context):
            return ChapterError(
                file: file, keyPath: path(context.codingPath),
                problem: Message(.chapterError.expectedFoundNull, parts: ["type": describe(type)]))
        case .keyNotFound(let key, let context):
            return ChapterError(
                file: file, keyPath: path(context.codingPath + [key]), problem: Message(.chapterError.missing))
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let detail = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                return ChapterError(
                    file: file, keyPath: "",
                    problem: detail.map { Message(.chapterError.notValidJSONDetail, ["detail": $0]) }
                        ?? Message(.chapterError.notValidJSON))
            }
            return ChapterError(
                file: file, keyPath: path(context.codingPath),
                problem: (context.underlyingError as? any MessageError)?.message ?? .literal(context.debugDescription))
        @unknown default:
            return ChapterError(file: file, keyPath: "", problem: Message(describing: error))
        }
    }

    /// `steps[2].checks[0].tiers`.
    static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    static func describe(_ type: Any.Type) -> Message {
        let name = String(describing: type)
        if name.hasPrefix("Array") || name.hasPrefix("[") { return Message(.chapterError.type.array) }
        if name.hasPrefix("Dictionary") || name.contains(":") { return Message(.chapterError.type.object) }
        switch name {
        case "LocalizedText": return Message(.chapterError.type.localizedText)
        case "String": return Message(.chapterError.type.string)
        case "Int", "Int64", "Double", "Int32", "UInt", "Float": return Message(.chapterError.type.number)
        case "Bool": return Message(.chapterError.type.bool)
        default: return Message(.chapterError.type.object)
        }
    }
}
