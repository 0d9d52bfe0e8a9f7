import Foundation
import HandsOnMessages

/// One line of `docker events --format '{{json .}}'` or `podman events --format json`: what happened to which object.
public struct EngineEvent: Sendable, Equatable {
    /// `image` or `container`.
    public let type: String
    /// `tag`, `untag`, `delete`, `start`, `die`, ... (podman: `remove`, `died`, `build`, ...).
    public let action: String
    /// The image or container name where the engine gives one.
    public let name: String?
    /// Started by one of HandsOn's own checks (`org.handson.check`): never a reason to check again.
    public let fromHandsOnCheck: Bool

    /// Reads one event line; nil for a line that is not an event.
    public static func parse(_ line: String) -> EngineEvent? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            return nil
        }
        let type = (object["Type"] ?? object["type"]) as? String
        let action = (object["Action"] ?? object["Status"] ?? object["status"]) as? String
        guard let type, let action else { return nil }
        let actor = object["Actor"] as? [String: Any]
        let attributes = (actor?["Attributes"] ?? object["Attributes"]) as? [String: Any] ?? [:]
        let name = (attributes["name"] as? String) ?? (object["Name"] as? String)
        return EngineEvent(
            type: type.lowercased(), action: action, name: name,
            fromHandsOnCheck: attributes["org.handson.check"] != nil)
    }

    /// Whether the learner's work may have changed what a check sees: an image built, tagged, untagged or removed,
    /// a container started or stopped. Pulls and saves (which checks cause themselves) and check containers are not.
    public var isRelevant: Bool {
        guard !fromHandsOnCheck else { return false }
        switch type {
        case "image": return ["tag", "untag", "delete", "remove", "build", "import", "load"].contains(action)
        case "container": return ["start", "die", "died", "stop", "destroy", "remove"].contains(action)
        default: return false
        }
    }
}

/// What following an engine's events yields.
public enum EngineEventUpdate: Sendable, Equatable {
    case connected
    case event(EngineEvent)
    /// The stream ended (the engine stopped or restarted); it is opened again after a pause.
    case lost(String)
}

extension ContainerEngine {
    /// The engine's image and container events, as they happen, for as long as the stream is consumed. When the
    /// engine goes away the stream says so and reconnects every `retry` seconds.
    public func followEvents(retry: Double) -> AsyncStream<EngineEventUpdate> {
        AsyncStream { continuation in
            let following = Task {
                while !Task.isCancelled {
                    continuation.yield(.connected)
                    let lines = LineSplitter()
                    let arguments =
                        kind == .docker
                        ? ["events", "--format", "{{json .}}", "--filter", "type=image", "--filter", "type=container"]
                        : ["events", "--format", "json", "--filter", "type=image", "--filter", "type=container"]
                    let result = try? await execute(arguments, timeout: 7 * 24 * 3600, outputLimit: 64 * 1024) {
                        kind, chunk in
                        guard kind == .standardOutput else { return }
                        for line in lines.feed(chunk) {
                            if let event = EngineEvent.parse(line) { continuation.yield(.event(event)) }
                        }
                    }
                    if Task.isCancelled { break }
                    continuation.yield(
                        .lost(result.map { $0.standardError.lastLines(1) } ?? say(.engineEvents.couldNotStart)))
                    try? await Task.sleep(for: .seconds(retry))
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in following.cancel() }
        }
    }
}
