import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Synchronization
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import handson

@Suite("--hosts: the engines a batch grades on")
struct EngineAddressTests {
    @Test(arguments: [
        (
            "unix:///run/handson-containerd-store/docker.sock",
            EngineAddress.Target.url("unix:///run/handson-containerd-store/docker.sock"), nil as Int?
        ),
        ("ssh://root@localhost=2", .url("ssh://root@localhost"), 2),
        ("tcp://lab2.example:2376=8", .url("tcp://lab2.example:2376"), 8),
        ("context:lab3", .context("lab3"), nil),
        (" context:lab3=1 ", .context("lab3"), 1),
    ])
    func readsEachKindOfAddress(text: String, target: EngineAddress.Target, jobs: Int?) async throws {
        let address = try EngineAddress.parse(text)
        #expect(address.target == target)
        #expect(address.jobs == jobs)
        #expect(address.cpuset == nil)
    }

    @Test func enginesSharingAMachineArePinnedToCoresOfTheirOwn() async throws {
        let list = try EngineAddress.parseList(
            "unix:///var/run/docker.sock=1@0,ssh://root@localhost=2@2-3,context:lab=1@0,4,unix:///b.sock")
        #expect(
            list.map(\.description) == [
                "unix:///var/run/docker.sock", "ssh://root@localhost", "context:lab", "unix:///b.sock",
            ])
        #expect(list.map(\.jobs) == [1, 2, 1, nil])
        #expect(list.map(\.cpuset) == ["0", "2-3", "0,4", nil])
        #expect(list.map { $0.cpuset.map(CPUList.count) } == [1, 2, 2, nil])
        #expect(throws: EngineAddressError.self) { try EngineAddress.parse("unix:///a.sock=1@x") }
        #expect(throws: EngineAddressError.self) { try EngineAddress.parse("unix:///a.sock=1@3-1") }
        #expect(throws: EngineAddressError.self) { try EngineAddress.parse("unix:///a.sock=1@99999999999999999999") }
        #expect(!CPUList.isValid("0-99999999999999999999") && CPUList.isValid("0-3,7"))
    }

    @Test(arguments: [
        ("lab1:2375", Message(.engineAddress.notAnAddress)),
        ("ssh://", Message(.engineAddress.needsHost, ["scheme": "ssh://"])),
        ("unix://", Message(.engineAddress.needsSocketPath, ["scheme": "unix://"])),
        ("ssh://root@lab1=0", Message(.engineAddress.jobsNotNumber)),
        ("context:", Message(.engineAddress.contextNeedsName)),
    ])
    func aBadEntryIsNamedWithWhatIsWrong(text: String, problem: Message) async {
        do {
            _ = try EngineAddress.parse(text)
            Issue.record("'\(text)' was accepted")
        } catch {
            let entry = text.trimmingCharacters(in: .whitespaces)
            #expect(error.entry == entry && error.problem == problem, "\(error)")
            #expect(
                error.description == english(.engineAddress.entry, ["entry": entry, "problem": problem.text(in: .en)]))
        }
    }

    @Test func aListAndAFile() async throws {
        let list = try EngineAddress.parseList("unix:///var/run/docker.sock=2, ssh://root@localhost=1")
        #expect(list.map(\.description) == ["unix:///var/run/docker.sock", "ssh://root@localhost"])
        #expect(list.map(\.jobs) == [2, 1])
        let file = "# the lab servers\nssh://grader@lab1=4\n\n  context:lab2\n"
        #expect(
            try EngineAddress.parseFile(file, path: "hosts.txt").map(\.description) == [
                "ssh://grader@lab1", "context:lab2",
            ])
        do {
            _ = try EngineAddress.parseFile("ssh://grader@lab1\nlab2\n", path: "hosts.txt")
            Issue.record("a bad line was accepted")
        } catch {
            #expect(error.location == "hosts.txt:2" && error.entry == "lab2")
            #expect(error.problem == Message(.engineAddress.notAnAddress), "\(error)")
        }
    }

    @Test func theAddressReplacesWhateverTheEnvironmentNamed() async throws {
        let base = ["DOCKER_HOST": "tcp://elsewhere:2375", "DOCKER_CONTEXT": "old", "PATH": "/usr/bin"]
        let ssh = try EngineAddress.parse("ssh://root@localhost")
        #expect(
            ssh.environment(for: .docker, base: base) == ["DOCKER_HOST": "ssh://root@localhost", "PATH": "/usr/bin"])
        #expect(
            ssh.environment(for: .podman, base: base) == ["CONTAINER_HOST": "ssh://root@localhost", "PATH": "/usr/bin"])
        let context = try EngineAddress.parse("context:lab2")
        #expect(context.environment(for: .docker, base: base) == ["DOCKER_CONTEXT": "lab2", "PATH": "/usr/bin"])
        #expect(context.environment(for: .podman, base: base) == ["CONTAINER_CONNECTION": "lab2", "PATH": "/usr/bin"])
        let engine = ContainerEngine(
            kind: .docker, runner: FakeProcessRunner(), environment: context.environment(for: .docker, base: base))
        #expect(engine.address == "context:lab2")
    }

    @Test func theCLIRefusesAMixOfOneEngineAndSeveral() async {
        let run = await CLIRun.run([
            "batch", "--chapter", "ictsc-diet", "--out", "/tmp/x", "--hosts", "ssh://a@b", "--jobs", "2", "/tmp",
        ])
        #expect(run.exitCode == ExitCode.usage)
        #expect(run.stderr.contains(english(.cli.batch.jobsOneEngineHosts)))
        let bad = await CLIRun.run(["batch", "--chapter", "ictsc-diet", "--out", "/tmp/x", "--hosts", "lab1", "/tmp"])
        #expect(bad.exitCode == ExitCode.usage)
        let notAnAddress = english(
            .engineAddress.entry, ["entry": "lab1", "problem": english(.engineAddress.notAnAddress)])
        #expect(bad.stderr.contains(english(.cli.optionProblem, ["option": "--hosts", "problem": notAnAddress])))
    }
}

@Suite("The batch's queue across engines")
struct SubmissionQueueTests {
    static func submissions(_ count: Int) -> [Submission] {
        (0..<count).map { Submission(name: "s\($0)", path: "/class/s\($0)") }
    }

    /// Each worker gets the first answer whose build affinity nobody has built yet, else the first of its own, else
    /// one of a worker with three or more of its own waiting: answers that share a first stage end on the worker
    /// that built it.
    @Test func answersThatShareABuildGoToTheWorkerThatBuiltOne() async {
        let keys = ["go", "go", "rust", "go", "rust", "c", nil, "c", "go", "c"]
        let queue = SubmissionQueue(
            keys.enumerated().map { Submission(name: "s\($0)", path: "/class/s\($0)", buildAffinity: $1) })
        var handed: [String] = []
        for builder in ["A", "B", "A", "B", "A", "B", "A", "B", "B", "A"] {
            guard let next = await queue.next(for: builder) else { break }
            handed.append("\(builder):\(next.name)")
        }
        #expect(
            handed == [
                "A:s0",  // go: nobody's yet
                "B:s2",  // rust: the first nobody built (s1 is A's go)
                "A:s5",  // c: new builds first, while there are any
                "B:s6",  // no key: always a new build
                "A:s1",  // nothing new left: A's own (go), in order
                "B:s4",  // B's own (rust)
                "A:s3",  // go
                "B:s7",  // B has none of its own left, A three (s7, s8, s9): B takes A's first
                "B:s9",  // c is B's now too: its c before A's go
                "A:s8",
            ])
        // Without a builder, the queue's order.
        let plain = SubmissionQueue(
            Self.submissions(2).map {
                var s = $0
                s.buildAffinity = "k"
                return s
            })
        #expect(await plain.next()?.name == "s0")
    }

    /// A worker left with only two of another's answers (each from that one's cache) waits rather than compile one
    /// afresh; when that worker has graded them, it stops. While that worker still compiles its first of them, the
    /// work it has ahead is worth taking one.
    @Test func aWorkerDoesNotTakeTheLastFewAnswersOfAnother() async throws {
        let queue = SubmissionQueue(
            [("s0", "go"), ("s1", "go"), ("s2", "rust"), ("s3", "go")].map {
                Submission(name: $0.0, path: "/class/\($0.0)", buildAffinity: $0.1)
            })
        let s0 = try #require(await queue.next(for: "A"))
        await queue.done(s0)  // A's go is built
        let s2 = try #require(await queue.next(for: "B"))
        #expect([s0.name, s2.name] == ["s0", "s2"])
        await queue.done(s2)
        let idle = try await Self.ask(queue, for: "B")
        #expect(await queue.isWaiting("B"), "B waits: s1 and s3 are A's, and A has only two")
        let s1 = try #require(await queue.next(for: "A"))
        let s3 = try #require(await queue.next(for: "A"))
        #expect([s1.name, s3.name] == ["s1", "s3"])
        for answer in [s1, s3] { await queue.done(answer) }
        #expect(await idle.value == nil, "every answer graded: B stops without having built go")

        let compiling = SubmissionQueue(
            ["s0", "s1", "s2"].map { Submission(name: $0, path: "/class/\($0)", buildAffinity: "go") })
        #expect(await compiling.next(for: "A")?.name == "s0")
        #expect(
            await compiling.next(for: "B")?.name == "s1", "A compiles go and has s1 and s2 after it: B takes one")
    }

    /// Asks the queue for `builder`'s next answer (graded at once) and returns when it has one or waits for one,
    /// however loaded the machine; the task gives the answer's name, nil when it stopped without one.
    static func ask(_ queue: SubmissionQueue, for builder: String) async throws -> Task<String?, Never> {
        let answered = LockedBox(false)
        let asked = Task {
            let taken = await queue.next(for: builder)
            if let taken { await queue.done(taken) }
            answered.withLock { $0 = true }
            return taken?.name
        }
        while !answered.withLock({ $0 }), await !queue.isWaiting(builder) {
            try await Task.sleep(for: .milliseconds(5))
        }
        return asked
    }

    /// Timed, the work ahead is reckoned in seconds: a fast worker takes one of the last two answers of a slow one
    /// (its compile ends before the slow one would get through both), and a slow one leaves them to a fast one.
    @Test func theWorkersPacesDecideWhetherAnAnswerIsTaken() async throws {
        let clock = ManualTime()
        func queue() -> SubmissionQueue {
            SubmissionQueue(
                [("a0", "go"), ("a1", "go"), ("b0", "rust"), ("b1", "rust"), ("a2", "go"), ("a3", "go")].map {
                    Submission(name: $0.0, path: "/class/\($0.0)", buildAffinity: $0.1)
                }, clock: { clock.now() })
        }
        /// Grades two answers of each worker, each taking `seconds`, then asks for the next as `asking`.
        func next(_ queue: SubmissionQueue, seconds: [String: Double], asking: String) async throws -> String? {
            for builder in ["A", "B", "A", "B"] {
                let answer = try #require(await queue.next(for: builder))
                clock.advance(seconds[builder] ?? 0)
                await queue.done(answer)
            }
            let asked = try await Self.ask(queue, for: asking)
            let other = asking == "A" ? "B" : "A"
            // Whatever it waited for: the other's own, graded, lets it stop.
            while let own = await queue.next(for: other) { await queue.done(own) }
            return await asked.value
        }
        // B grades in 0.01 s, A in 0.3 s; a2 and a3 (A's) are left: 0.6 s for A, a compile of 0.01 s for B.
        #expect(try await next(queue(), seconds: ["A": 0.3, "B": 0.01], asking: "B") == "a2")
        // B slower (1 s a compile) than A would take for both (0.2 s): B waits, and stops when A is done.
        #expect(try await next(queue(), seconds: ["A": 0.1, "B": 1.0], asking: "B") == nil)
    }

    /// An affinity whose grades take long even from the cache (a container that fills its memory) counts at its length.
    @Test func anAnswerThatRunsLongFromTheCacheCountsAtItsOwnLength() async throws {
        let clock = ManualTime()
        let queue = SubmissionQueue(
            [
                ("h0", "hog"), ("r0", "rust"), ("g0", "go"), ("r1", "rust"), ("h1", "hog"), ("g1", "go"), ("g2", "go"),
                ("h2", "hog"), ("g3", "go"),
            ].map { Submission(name: $0.0, path: "/class/\($0.0)", buildAffinity: $0.1) }, clock: { clock.now() })
        // A builds hog and go (0.1 s each), B rust (0.4 s): then A's hog from the cache takes 1 s, its go 0.05 s.
        for (builder, expected, seconds) in [
            ("A", "h0", 0.1), ("B", "r0", 0.4), ("A", "g0", 0.1), ("B", "r1", 0.01), ("A", "h1", 1.0),
            ("A", "g1", 0.05),
            ("A", "g2", 0.05),
        ] {
            let answer = try #require(await queue.next(for: builder))
            #expect(answer.name == expected)
            clock.advance(seconds)
            await queue.done(answer)
        }
        // A grades h2 (about 1 s) with g3 left: by A's usual pace 0.1 s ahead, by hog's length 1 s, more than B's
        // compile (0.4 s). B takes g3.
        let h2 = try #require(await queue.next(for: "A"))
        let asked = try await Self.ask(queue, for: "B")
        clock.advance(0.3)
        await queue.done(h2)
        // Whatever B waited for: A's own, graded, lets it stop.
        while let own = await queue.next(for: "A") { await queue.done(own) }
        #expect(await asked.value == "g3")
    }

    /// The worker whose answers another waited for stops (its engine was lost): they are anybody's.
    @Test func theAnswersOfAWorkerThatStoppedGoToOneThatWaits() async throws {
        let queue = SubmissionQueue(
            ["s0", "s1"].map { Submission(name: $0, path: "/class/\($0)", buildAffinity: "go") })
        let s0 = try #require(await queue.next(for: "A"))
        let waiter = Task { await queue.next(for: "B") }
        try await Task.sleep(for: .milliseconds(100))
        await queue.giveBack(s0)
        await queue.leave("A")
        #expect(await waiter.value?.name == "s1", "the first left, though A built go")
        #expect(await queue.next(for: "B")?.name == "s0", "go is B's now")
    }

    @Test func everyAnswerOnceThenNil() async {
        let queue = SubmissionQueue(Self.submissions(3))
        var handed: [String] = []
        while let next = await queue.next() {
            handed.append(next.name)
            await queue.done(next)
        }
        #expect(handed == ["s0", "s1", "s2"])
    }

    @Test func anAnswerGivenBackGoesToAWorkerThatWaits() async throws {
        let queue = SubmissionQueue(Self.submissions(1))
        let first = try #require(await queue.next())
        // The queue is empty but one answer is in flight: a second worker waits for it instead of stopping.
        let waiter = Task { await queue.next() }
        try await Task.sleep(for: .milliseconds(100))
        await queue.giveBack(first)  // its engine was lost
        let regraded = await waiter.value
        #expect(regraded == first)
        await queue.done(first)
        #expect(await queue.next() == nil, "all answers are done")
    }

    @Test func waitersAreReleasedWhenTheLastAnswerIsDone() async throws {
        let queue = SubmissionQueue(Self.submissions(1))
        let only = try #require(await queue.next())
        let waiters = (0..<3).map { _ in Task { await queue.next() } }
        try await Task.sleep(for: .milliseconds(100))
        await queue.done(only)
        for waiter in waiters { #expect(await waiter.value == nil) }
    }

    @Test func anOpenQueueWaitsForAnswersStillToComeUntilClosed() async throws {
        let queue = SubmissionQueue([], open: true)
        // Empty and nothing in flight, yet open: a worker waits for the answer a follower adds later.
        let worker = Task { await queue.next() }
        try await Task.sleep(for: .milliseconds(100))
        let team = Submission(name: "team1", path: "/staging/team1-1", contentHash: "aa")
        await queue.add(team)
        #expect(await worker.value == team)
        #expect(await queue.holds("team1"), "in flight")
        #expect(!(await queue.holds("team2")))
        await queue.done(team)
        #expect(!(await queue.holds("team1")))
        let last = Task { await queue.next() }
        try await Task.sleep(for: .milliseconds(100))
        await queue.close()
        #expect(await last.value == nil, "closed and empty: the workers stop")
    }

    @Test func aCancelledWaiterStops() async throws {
        let queue = SubmissionQueue(Self.submissions(1))
        _ = try #require(await queue.next())
        let waiter = Task { await queue.next() }
        try await Task.sleep(for: .milliseconds(100))
        waiter.cancel()
        #expect(await waiter.value == nil)
    }

    @Test func withNoWorkerLeftAGivenBackAnswerStaysQueued() async throws {
        let queue = SubmissionQueue(Self.submissions(2))
        let first = try #require(await queue.next())
        await queue.giveBack(first)
        #expect(await queue.next()?.name == "s1")
        #expect(await queue.next()?.name == "s0", "given back to the end of the queue")
    }
}

@Suite("HTTP from inside a remote engine")
struct InsideEngineProbeTests {
    @Test(arguments: [
        (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"status\":\"Healthy\"}", 200,
            "{\"status\":\"Healthy\"}"
        ),
        ("HTTP/1.0 404 Not Found\r\n\r\n404 page not found\n", 404, "404 page not found\n"),
        ("HTTP/1.1 503 Service Unavailable\n\nstarting", 503, "starting"),
        ("", 0, ""),
        ("bash: connect: Connection refused", 0, ""),
    ])
    func aRawResponseIsReadBack(text: String, status: Int, body: String) async {
        let parsed = HealthProbe.parseResponse(text)
        #expect(parsed.status == status)
        #expect(parsed.body == body)
    }

    @Test func theRequestPathKeepsItsQuery() async {
        #expect(HealthProbe.path(of: "http://127.0.0.1:9090/health") == "/health")
        #expect(HealthProbe.path(of: "http://127.0.0.1:9090") == "/")
        #expect(HealthProbe.path(of: "http://127.0.0.1:9090/api/v1?x=1&y=%20") == "/api/v1?x=1&y=%20")
    }

    @Test func aRemoteEngineIsAskedFromAHelperContainerWithNothingPublished() async {
        let runner = FakeProcessRunner()
        runner.on(["docker", "run", "-d"], stdout: "c0ffee\n")
        runner.on(["docker", "run", "--rm"], stdout: "HTTP/1.1 200 OK\r\n\r\n{\"status\":\"Healthy\"}")
        runner.on(["docker", "rm"])
        let engine = ContainerEngine(
            kind: .docker, runner: runner, environment: ["DOCKER_HOST": "ssh://grader@lab1", "PATH": "/usr/bin:/bin"])
        let spec = CheckSpec(
            id: "serves",
            kind: .imageServes(
                ServeExpectation(
                    image: "app", containerPort: 9090, path: "/health", status: 200,
                    jsonField: "status", equals: "Healthy", deadlineSeconds: 5)))
        let result = await CheckRunner().run(spec, in: CheckContext(engine: engine, workingDirectory: "/tmp"))
        #expect(result.passed, "\(result.message)")
        let start = runner.commands.first { $0.starts(with: ["docker", "run", "-d"]) } ?? []
        #expect(
            !start.contains("-p") && !start.contains("--publish"), "nothing published on the remote machine: \(start)")
        let probe = runner.commands.first { $0.starts(with: ["docker", "run", "--rm"]) } ?? []
        #expect(
            probe.contains { $0.hasPrefix("container:handson-serve-") }, "in the server's network namespace: \(probe)")
        #expect(probe.contains(HealthProbe.helperImage) && probe.suffix(2) == ["9090", "/health"], "\(probe)")
    }
}

@Suite("Work for every engine at once")
struct ConcurrentMapTests {
    @Test func resultsComeInTheElementsOrderWhateverFinishesFirst() async {
        let started = LockedBox(0)
        let results = await [30, 0, 20, 10].concurrentMap { delay -> Int in
            started.withLock { $0 += 1 }
            try? await Task.sleep(for: .milliseconds(delay))
            return delay * 2
        }
        #expect(results == [60, 0, 40, 20])
        #expect(started.withLock { $0 } == 4)
    }
}

/// Time that moves only when the test says: grades "take" their seconds at once, however loaded the machine.
final class ManualTime: Sendable {
    private let instant = Mutex(ContinuousClock.now)

    func now() -> ContinuousClock.Instant { instant.withLock { $0 } }

    func advance(_ seconds: Double) { instant.withLock { $0 += .seconds(seconds) } }
}
