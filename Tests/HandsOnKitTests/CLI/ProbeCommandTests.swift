import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import handson

@Suite("handson probe")
struct ProbeCommandTests {
    /// curl refuses twice (exit 7, `000`), then answers with each body in turn.
    static func curl(bodies: [String]) -> FakeProcessRunner {
        let runner = FakeProcessRunner()
        let answers = LockedBox([nil, nil] + bodies.map(Optional.some))
        runner.on(["curl"]) { request in
            let output = request.arguments[request.arguments.firstIndex(of: "-o")! + 1]
            guard let body = answers.withLock({ $0.count > 1 ? $0.removeFirst() : $0[0] }) else {
                return (7, "000 7", "")
            }
            try? body.write(toFile: output, atomically: true, encoding: .utf8)
            return (0, "200 0", "")
        }
        return runner
    }

    @Test func itWaitsThroughRefusalsAndStartingUntilHealthy() async {
        let runner = Self.curl(bodies: ["{\"status\":\"Starting\"}", "{\"status\":\"Healthy\"}"])
        let run = await CLIRun.run(["probe", "http://127.0.0.1:9091/health", "--json"], runner: runner)
        #expect(run.exitCode == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\"attempts\" : 4"))
        #expect(run.stdout.contains("\"satisfied\" : true"))
        #expect(runner.commands.count == 4)
    }

    @Test func aDeadlinePassingSaysWhatWasLastSeen() async {
        let runner = Self.curl(bodies: ["{\"status\":\"Starting\"}"])
        let run = await CLIRun.run(["probe", "http://127.0.0.1:9091/health", "--deadline", "10"], runner: runner)
        #expect(run.exitCode == 1)
        let condition = english(.httpCheck.withField, ["field": "status", "value": "Healthy"])
        let wanted = "200" + english(.httpCheck.withFieldSuffix, ["condition": condition])
        let lastSeen = english(
            .cli.probe.didAnswerWithinLast,
            [
                "url": "http://127.0.0.1:9091/health", "wanted": wanted, "seconds": "10",
                "summary": "200 {\"status\":\"Starting\"}",
            ])
        #expect(run.stderr.contains(lastSeen), "\(run.stderr)")
    }

    @Test func anyBodyAcceptsTheFirstAnswerWithTheStatus() async {
        let runner = Self.curl(bodies: ["plain text"])
        let run = await CLIRun.run(["probe", "http://127.0.0.1:9091/", "--any-body"], runner: runner)
        #expect(run.exitCode == 0)
        let answered = english(
            .cli.probe.answered, ["url": "http://127.0.0.1:9091/", "summary": "200 plain text"], before: "seconds")
        #expect(run.stdout.hasPrefix(answered), "\(run.stdout)")
    }

    @Test func onlyHTTPURLsAreProbed() async {
        let run = await CLIRun.run(["probe", "localhost:9091"])
        #expect(run.exitCode == 2)
        #expect(run.stderr.contains(english(.cli.probe.giveHttpHttpsUrl, ["url": "localhost:9091"])))
    }
}
