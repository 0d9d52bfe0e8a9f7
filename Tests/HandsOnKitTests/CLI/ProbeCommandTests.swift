import Foundation
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
        #expect(
            run.stderr.contains(
                "did not answer 200 with status = Healthy within 10 s; last: 200 {\"status\":\"Starting\"}"))
    }

    @Test func anyBodyAcceptsTheFirstAnswerWithTheStatus() async {
        let runner = Self.curl(bodies: ["plain text"])
        let run = await CLIRun.run(["probe", "http://127.0.0.1:9091/", "--any-body"], runner: runner)
        #expect(run.exitCode == 0)
        #expect(run.stdout.hasPrefix("http://127.0.0.1:9091/ answered 200 plain text after "))
    }

    @Test func onlyHTTPURLsAreProbed() async {
        let run = await CLIRun.run(["probe", "localhost:9091"])
        #expect(run.exitCode == 2)
        #expect(run.stderr.contains("give an http:// or https:// URL, not 'localhost:9091'"))
    }
}
