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
                ["url": "\(expectation.url)", "seconds": "\(Int(expectation.deadlineSeconds))"],
                parts: ["wanted": wantedMessage, "measured": observation.summaryMessage]),
            measured: measured)
    }

    /// "200 with status = Healthy".
    public var wanted: String { wantedMessage.text() }

    /// `wanted`, to render in the reader's language.
    public var wantedMessage: Message {
        let status = Message.literal("\(expectation.status)")
        guard let field = expectation.jsonField else { return status }
        let value = expectation.equals.map(Message.literal) ?? Message(.httpCheck.anyValue)
        return status
            + Message(
                .httpCheck.withFieldSuffix,
                parts: ["condition": Message(.httpCheck.withField, ["field": field], parts: ["value": value])])
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
