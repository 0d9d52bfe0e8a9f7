import Foundation
import HandsOnEngine
import HandsOnMessages

/// An HTTP endpoint answers with a status and, where asked, a JSON field's value, within a deadline (curl, retried).
public struct HTTPCheck: Sendable {
    public let expectation: HTTPExpectation

    public init(expectation: HTTPExpectation) { self.expectation = expectation }

    func run(_ id: CheckID, _ context: CheckContext) async throws -> CheckResult {
        let probe = HealthProbe(runner: context.engine.runner)
        let observation = try await probe.waitUntil(url: expectation.url, deadlineSeconds: expectation.deadlineSeconds)
        { satisfied($0) }
        let measured = observation.summary
        if satisfied(observation) {
            return CheckResult(
                id: id, passed: true,
                reason: Message(
                    .hTTPCheck.urlAnsweredMeasured, ["url": "\(expectation.url)", "measured": "\(measured)"]),
                measured: measured)
        }
        return CheckResult(
            id: id, passed: false,
            reason: Message(
                .hTTPCheck.urlDidAnswerWanted,
                [
                    "url": "\(expectation.url)", "wanted": "\(wanted)",
                    "seconds": "\(Int(expectation.deadlineSeconds))", "measured": "\(measured)",
                ]),
            measured: measured)
    }

    /// "200 with status = Healthy".
    public var wanted: String {
        var text = "\(expectation.status)"
        if let field = expectation.jsonField {
            text += say(
                .httpCheck.withFieldSuffix,
                [
                    "condition": say(
                        .httpCheck.withField,
                        ["field": field, "value": expectation.equals ?? say(.httpCheck.anyValue)])
                ])
        }
        return text
    }

    public func satisfied(_ observation: HealthObservation) -> Bool {
        guard observation.curlExitCode == 0, observation.httpStatus == expectation.status else { return false }
        guard let field = expectation.jsonField else { return true }
        guard let object = try? JSONSerialization.jsonObject(with: Data(observation.body.utf8)) as? [String: Any],
            let value = object[field]
        else { return false }
        guard let wanted = expectation.equals else { return true }
        return "\(value)" == wanted
    }
}
