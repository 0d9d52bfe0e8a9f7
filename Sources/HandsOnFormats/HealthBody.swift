import Foundation

/// The body a health endpoint answers with.
public enum HealthBody {
    /// Whether the text is a JSON object with `"status": "Healthy"`.
    public static func isHealthy(_ body: String) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
            return false
        }
        return object["status"] as? String == "Healthy"
    }
}
