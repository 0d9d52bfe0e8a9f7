import Foundation

/// A chapter that cannot be used: the file, the key path inside it, and what is wrong.
public struct ChapterError: Error, Equatable, CustomStringConvertible {
    public let file: String
    /// `steps[2].checks[0].tiers`, or empty for the file as a whole.
    public let keyPath: String
    public let message: String

    public var description: String { keyPath.isEmpty ? "\(file): \(message)" : "\(file): \(keyPath): \(message)" }

    /// Says what a JSONDecoder error means, with the key path where it happened.
    static func from(_ error: DecodingError, file: String) -> ChapterError {
        switch error {
        case .typeMismatch(let type, let context):
            return ChapterError(
                file: file, keyPath: path(context.codingPath),
                message: context.debugDescription.hasPrefix("expected")
                    ? context.debugDescription : "expected \(describe(type))")
        case .valueNotFound(let type, let context):
            return ChapterError(
                file: file, keyPath: path(context.codingPath), message: "expected \(describe(type)), found null")
        case .keyNotFound(let key, let context):
            return ChapterError(file: file, keyPath: path(context.codingPath + [key]), message: "missing")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let detail = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                return ChapterError(
                    file: file, keyPath: "", message: "not valid JSON" + (detail.map { " (\($0))" } ?? ""))
            }
            return ChapterError(file: file, keyPath: path(context.codingPath), message: context.debugDescription)
        @unknown default:
            return ChapterError(file: file, keyPath: "", message: "\(error)")
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

    static func describe(_ type: Any.Type) -> String {
        let name = String(describing: type)
        if name.hasPrefix("Array") || name.hasPrefix("[") { return "an array" }
        if name.hasPrefix("Dictionary") || name.contains(":") { return "an object" }
        switch name {
        case "String": return "a string"
        case "Int", "Int64", "Double", "Int32", "UInt", "Float": return "a number"
        case "Bool": return "true or false"
        default: return "an object"
        }
    }
}
