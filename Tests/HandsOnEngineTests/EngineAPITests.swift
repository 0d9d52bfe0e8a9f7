import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Synchronization
import Testing

@testable import HandsOnEngine
@testable import HandsOnFormats

#if canImport(Glibc)
    import Glibc
#endif

/// The Engine API spoken over a Unix socket: responses Docker 26 sent (`Fixtures/engine-api`, captured with
/// `curl --unix-socket ... -i --raw`), read however their bytes arrive; the client against a socket served here.
@Suite("The Engine API over a Unix socket")
struct EngineAPITests {
    static let fixtures = ListingFixtures.directory + "/../engine-api"

    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/\(name)"))
    }

    static func read(_ bytes: Data, splitEvery step: Int, limit: Int = 1 << 20, truncating: Bool = false) throws
        -> HTTPResponse
    {
        var reader = HTTPResponseReader(bodyLimit: limit, truncating: truncating)
        var offset = 0
        while offset < bytes.count {
            try reader.feed(bytes[offset..<min(offset + step, bytes.count)])
            offset += step
        }
        return try reader.finish()
    }

    @Test(arguments: ["response-404.http", "response-logs.http", "response-build-cache.http"])
    func aResponseReadsTheSameHoweverItsBytesArrive(_ name: String) throws {
        let bytes = try Self.fixture(name)
        let whole = try Self.read(bytes, splitEvery: bytes.count)
        for step in [1, 2, 3, 7, 64] {
            #expect(try Self.read(bytes, splitEvery: step) == whole, "\(name) in pieces of \(step)")
        }
        #expect(whole.headers["api-version"] == "1.45")
    }

    @Test func headerNamesAreLowerCasedAndValuesTrimmedOfSpacesAndTabs() throws {
        let text =
            "HTTP/1.1 200 OK\r\nApi-Version: 1.45\r\nX-Tab:\tvalue\t\r\nX-Empty:\r\nX-Tight:v\r\n"
            + "X-Inner: a b:c \r\nContent-Length: 2\r\n\r\nok"
        let response = try Self.read(Data(text.utf8), splitEvery: 5)
        #expect(
            response.headers == [
                "api-version": "1.45", "x-tab": "value", "x-empty": "", "x-tight": "v", "x-inner": "a b:c",
                "content-length": "2",
            ])
        #expect(String(decoding: response.body, as: UTF8.self) == "ok")
    }

    @Test func aRefusalCarriesTheEnginesOwnMessage() throws {
        let response = try Self.read(try Self.fixture("response-404.http"), splitEvery: 1 << 20)
        #expect(response.status == 404 && !response.succeeded)
        #expect(DockerEngineAPI.message(of: response) == "No such image: nope:latest")
    }

    @Test func aChunkedLogStreamIsDechunkedAndSplitIntoItsTwoStreams() throws {
        let response = try Self.read(try Self.fixture("response-logs.http"), splitEvery: 5)
        #expect(response.headers["transfer-encoding"] == "chunked")
        let streams = LogStreams.split(response.body, limit: 1 << 20)
        #expect(streams.stdout.text == "out one\nout two\n")
        #expect(streams.stderr.text == "err one\n")
        // A stream cut inside a frame keeps the part that came.
        let cut = try Self.read(try Self.fixture("response-logs.http"), splitEvery: 5, limit: 27, truncating: true)
        #expect(cut.truncated && cut.body.count == 27)
        #expect(LogStreams.split(cut.body, limit: 1 << 20).stderr.text == "err one\n")
        #expect(LogStreams.split(cut.body, limit: 1 << 20).stdout.text == "out")
        // A container with a terminal sends its bytes as they are.
        #expect(LogStreams.split(Data("plain text\n".utf8), limit: 1 << 20).stdout.text == "plain text\n")
        // A long log keeps its end, where a server's last words are: head and tail, as a process's output.
        var long = Data()
        for line in 0..<5000 {
            let text = Array("line \(line)\n".utf8)
            long.append(contentsOf: [1, 0, 0, 0, 0, 0, 0, UInt8(text.count)] + text)
        }
        long.append(contentsOf: [2, 0, 0, 0, 0, 0, 0, 13] + Array("panic: boom!\n".utf8))
        let kept = LogStreams.split(long, limit: 1000)
        #expect(kept.stdout.isTruncated && kept.stdout.text.hasSuffix("line 4999\n"))
        #expect(kept.stderr.text == "panic: boom!\n")
    }

    @Test func aStreamThatLosesItsFramingIsKeptAsItIsNotGuessedAt() {
        var demultiplexer = StreamDemultiplexer(limit: 1 << 20)
        demultiplexer.feed(Data([1, 0, 0, 0, 0, 0, 0, 3] + Array("ok\n".utf8)))
        demultiplexer.feed(Data("HTTP/1.1 junk that is no frame".utf8))
        demultiplexer.feed(Data([2, 0, 0, 0, 0, 0, 0, 1, 0x41]))
        #expect(demultiplexer.plain)
        #expect(demultiplexer.stdout.text == "ok\nHTTP/1.1 junk that is no frame" + "\u{2}\0\0\0\0\0\0\u{1}A")
        #expect(demultiplexer.stderr.totalBytes == 0)
    }

    @Test func anAttachStreamIsSplitAsItArrivesAndCappedAsAProcesssOutput() throws {
        let body = try Self.read(try Self.fixture("response-logs.http"), splitEvery: 1 << 20).body
        for step in [1, 3, 7, 9, body.count] {
            var demultiplexer = StreamDemultiplexer(limit: 1 << 20)
            var offset = 0
            while offset < body.count {
                demultiplexer.feed(body[offset..<min(offset + step, body.count)])
                offset += step
            }
            #expect(demultiplexer.stdout.text == "out one\nout two\n", "pieces of \(step)")
            #expect(demultiplexer.stderr.text == "err one\n", "pieces of \(step)")
        }
        var flood = StreamDemultiplexer(limit: 10)
        let frame: [UInt8] = [1, 0, 0, 0, 0, 0, 0x27, 0x10] + [UInt8](repeating: UInt8(ascii: "x"), count: 10_000)
        flood.feed(Data(frame))
        #expect(flood.stdout.totalBytes == 10_000 && flood.stdout.isTruncated && flood.stdout.head.count == 5)
    }

    /// The create body an answer's run sends: the fields `docker run --rm -i` sets, under the API's names.
    @Test func aRunIsCreatedWithTheFieldsDockerRunSets() throws {
        var run = ContainerRunRequest(
            image: "handson-grade/x:1", name: "handson-check-1", command: ["/hash", "-n"], labels: ["a": "b"],
            network: .none, cpuset: "1")
        run.limits.memoryBytes = 256 << 20
        let body = try JSONEncoder().encode(run.configuration)
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? NSDictionary)
        let expected: NSDictionary = [
            "Image": "handson-grade/x:1", "Cmd": ["/hash", "-n"], "Labels": ["a": "b"], "AttachStdin": true,
            "AttachStdout": true, "AttachStderr": true, "OpenStdin": true, "StdinOnce": true, "Tty": false,
            "HostConfig": [
                "Memory": 268_435_456, "PidsLimit": 128, "NanoCpus": 1_000_000_000, "CapDrop": ["ALL"],
                "SecurityOpt": ["no-new-privileges"], "LogConfig": ["Type": "", "Config": ["max-size": "1m"]],
                "NetworkMode": "none", "CpusetCpus": "1", "AutoRemove": true,
            ],
        ]
        #expect(object == expected, "\(object)")
        // No command: the image's own, so no `Cmd` at all.
        run.command = []
        let bare = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(run.configuration)) as? NSDictionary
        #expect(bare?["Cmd"] == nil)
    }

    @Test func anEnginesRefusalToRunEndsAsDockerRunEnds() {
        let notFound =
            #"failed to create task for container: ... exec: "/bin/sh": stat /bin/sh: no such file or directory: unknown"#
        #expect(ContainerEngine.runExitCode(refusal: notFound) == 127)
        #expect(ContainerEngine.runExitCode(refusal: #"exec: "/app": permission denied: unknown"#) == 126)
        #expect(ContainerEngine.runExitCode(refusal: "No such image: handson-absent:nope") == 125)
    }

    @Test func aBodyPastItsLimitIsAnErrorUnlessCutIsAsked() throws {
        let bytes = try Self.fixture("response-build-cache.http")
        #expect(throws: HTTPResponseReader.Failure.tooLarge(limit: 100)) {
            try Self.read(bytes, splitEvery: 50, limit: 100)
        }
        let cut = try Self.read(bytes, splitEvery: 50, limit: 100, truncating: true)
        #expect(cut.truncated && cut.body.count == 100)
        let chunked = try Self.fixture("response-logs.http")
        #expect(throws: HTTPResponseReader.Failure.tooLarge(limit: 10)) {
            try Self.read(chunked, splitEvery: 3, limit: 10)
        }
    }

    @Test func whatIsNotAnHTTPResponseIsNamedNeverACrash() {
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        let cases: [(String, Message)] = [
            ("SSH-2.0-OpenSSH_9.2\r\n\r\n", Message(.httpResponse.statusLine, ["line": "SSH-2.0-OpenSSH_9.2"])),
            (
                "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
                Message(.httpResponse.headerWithoutColon, ["line": "no colon here"])
            ),
            ("HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n", Message(.httpResponse.contentLength, ["value": "-4"])),
            (chunked + "zz\r\n", Message(.httpResponse.chunkSizeLine, ["line": "zz"])),
            // A sign is no hex digit: -1 would be a negative size.
            (chunked + "-1\r\nx", Message(.httpResponse.chunkSizeLine, ["line": "-1"])),
            (chunked + "+5\r\nhello", Message(.httpResponse.chunkSizeLine, ["line": "+5"])),
            (chunked + "2\r\nokX\r\n", Message(.httpResponse.afterChunk, ["line": "X"])),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
                Message(.httpResponse.bodyEndsEarly, ["read": "3", "length": "10"])
            ),
            (chunked + "5\r\nab", Message(.httpResponse.chunkedBodyEndsEarly)),
            ("HTTP/1.1 200 OK\r\nContent-", Message(.httpResponse.headersEndEarly)),
            ("", Message(.httpResponse.noResponse)),
        ]
        for (text, reason) in cases {
            #expect(throws: HTTPResponseReader.Failure.malformed(reason), "\(text.debugDescription)") {
                try Self.read(Data(text.utf8), splitEvery: 4)
            }
        }
        var endless = HTTPResponseReader(bodyLimit: 100)
        #expect(throws: HTTPResponseReader.Failure.malformed(Message(.httpResponse.headersTooLarge))) {
            try endless.feed(Data(repeating: UInt8(ascii: "a"), count: 70_000))
        }
        // Whole at once, its end in sight: still too long.
        let long = "HTTP/1.1 200 OK\r\nX-Long: \(String(repeating: "a", count: 70_000))\r\nContent-Length: 0\r\n\r\n"
        var whole = HTTPResponseReader(bodyLimit: 100)
        #expect(throws: HTTPResponseReader.Failure.malformed(Message(.httpResponse.headersTooLarge))) {
            try whole.feed(Data(long.utf8))
        }
    }

    @Test func anInterimResponseIsSkippedAndABodyWithoutLengthEndsWithTheConnection() throws {
        let text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end"
        let response = try Self.read(Data(text.utf8), splitEvery: 6)
        #expect(response.status == 200 && String(decoding: response.body, as: UTF8.self) == "to the end")
        let empty = try Self.read(Data("HTTP/1.1 204 No Content\r\n\r\n".utf8), splitEvery: 3)
        #expect(empty.status == 204 && empty.body.isEmpty)
    }

    @Test func anImageReadsAlikeFromTheAPIAndFromTheCLIsInspectLine() throws {
        let image = try JSONDecoder().decode(
            InspectedImage.self, from: try Self.fixture("image-golang-overlay2.json"))
        #expect(image.id == "sha256:f375e6bf1c4d47b46f3c1443a038606be0128662a7ab073360093ed194c8fc5b")
        #expect(image.repoTags == ["golang:1.19"] && image.size == 888_355_555 && image.user == "")
        #expect(image.labels?["org.handson.stand-in.for"] == "golang:1.19")
        #expect(image.graphDriver?.name == "overlay2" && image.layers?.count == 1)
        let upper = try #require(image.graphDriver?.data?["UpperDir"])
        let line =
            "\(image.id)\t{\"Data\":{\"UpperDir\":\"\(upper)\"},\"Name\":\"overlay2\"}\t"
            + "[\"\(image.layers?[0] ?? "")\"]\t[\"golang:1.19\"]"
        let fromLine = InspectedImage(inspectLine: line)
        #expect(fromLine.id == image.id && fromLine.layers == image.layers && fromLine.repoTags == image.repoTags)
        #expect(fromLine.graphDriver?.data?["UpperDir"] == upper)
        #expect(
            LayersOnDisk.bases(images: [fromLine], among: ["docker.io/library/golang:1.19"]).map(\.name) == [
                "docker.io/library/golang:1.19"
            ])
    }

    @Test func theListingsSizeIsWrittenAsTheCLIWritesIt() throws {
        let rows = try JSONDecoder().decode([ListedImage].self, from: try Self.fixture("images-busybox-overlay2.json"))
        #expect(rows.map { $0.repoTags ?? [] } == [["busybox:1.36"], ["busybox:latest"]])
        // `docker image ls busybox` printed 1.98MB for both rows when the fixture was captured.
        #expect(rows.map { ByteFormatting.decimal($0.size) } == ["1.98MB", "1.98MB"])
    }

    // MARK: - The client against a socket served by the test

    @Test func aRequestIsSentWholeAndItsAnswerRead() async throws {
        let server = try CannedSocketServer(responses: [try Self.fixture("response-build-cache.http")])
        defer { server.close() }
        let api = DockerEngineAPI(socketPath: server.path)
        let ids = try await api.buildCacheIDs()
        let listed = ContainerEngine.buildCacheIDs(
            inVerboseListing: String(decoding: try Self.fixture("buildx-du-verbose.txt"), as: UTF8.self))
        #expect(ids == listed && ids.count == 4, "the API's records are those `docker buildx du` lists")
        let request = try #require(server.requests.first)
        #expect(request.hasPrefix("GET /system/df?type=build-cache HTTP/1.1\r\n"))
        #expect(request.contains("\r\nConnection: close\r\n") && request.contains("\r\nHost: docker\r\n"))
    }

    @Test func namesAndFiltersAreEscapedInTheRequest() async throws {
        let server = try CannedSocketServer(responses: [
            Data("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]".utf8),
            Data("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".utf8),
        ])
        defer { server.close() }
        let api = DockerEngineAPI(socketPath: server.path)
        #expect(try await api.containerIDs(labelled: "org.handson.run=a b&c;d").isEmpty)
        #expect(try await api.image("localhost:5000/team/app:v1 #x") == nil)
        // Only unreserved characters stay in a query value: the engine's server refuses a `;` there.
        #expect(
            server.requests.first?.hasPrefix(
                "GET /containers/json?all=1&filters=%7B%22label%22%3A%5B%22org.handson.run%3Da%20b%26c%3Bd%22%5D%7D ")
                == true, "\(server.requests)")
        #expect(server.requests.last?.hasPrefix("GET /images/localhost:5000/team/app:v1%20%23x/json ") == true)
    }

    @Test func anEngineThatDoesNotAnswerTimesOutAndACancelledRequestEnds() async throws {
        let server = try CannedSocketServer(responses: [nil, nil])
        defer { server.close() }
        let client = UnixSocketHTTPClient(socketPath: server.path)
        var request = UnixSocketHTTPClient.Request("GET", "/info")
        request.timeout = 0.3
        let started = ContinuousClock.now
        await #expect(throws: EngineAPIError.timedOut(request: "GET /info", seconds: 0.3)) {
            try await client.send(request)
        }
        // The server never answers: any end proves the timeout. The bound is loose, as a loaded machine (the suites
        // run in parallel) starts the request's thread late.
        #expect(ContinuousClock.now - started < .seconds(30))
        request.timeout = 60
        let waiting = Task { try await client.send(request) }
        try await Task.sleep(for: .milliseconds(100))
        waiting.cancel()
        await #expect(throws: EngineAPIError.cancelled) { try await waiting.value }
    }

    @Test func aMissingSocketIsUnreachableAndNamed() async {
        let client = UnixSocketHTTPClient(socketPath: "/nonexistent/handson/docker.sock")
        await #expect(throws: EngineAPIError.unreachable(socket: "/nonexistent/handson/docker.sock", errno: ENOENT)) {
            try await client.send(.init("GET", "/info"))
        }
        let error = EngineAPIError.unreachable(socket: "/nonexistent/handson/docker.sock", errno: ENOENT)
        #expect(error.description.contains("/nonexistent/handson/docker.sock"))
    }

    @Test func theAPIIsSpokenOnlyToTheDaemonDockerInfoNamed() async throws {
        let info = Data(#"{"ID":"7522e1fc-adb0","Name":"x"}"#.utf8)
        let response = Data("HTTP/1.1 200 OK\r\nContent-Length: \(info.count)\r\n\r\n".utf8) + info
        let server = try CannedSocketServer(responses: [response, response])
        defer { server.close() }
        func engine(daemonID: String?) async -> ContainerEngine {
            let runner = FakeProcessRunner()
            runner.on(
                ["docker", "info"],
                stdout: "28.2.2|26.1.5|overlay2|[]|buildx=/x|cgroupfs|2|[]|/var/lib/docker|\(daemonID ?? "")")
            let engine = ContainerEngine(
                kind: .docker, runner: runner, environment: ["DOCKER_HOST": "unix://\(server.path)"])
            _ = await engine.probe()
            return engine
        }
        #expect(await engine(daemonID: "7522e1fc-adb0").engineAPI() != nil)
        #expect(await engine(daemonID: "another-daemon").engineAPI() == nil, "another daemon behind the socket")
        #expect(await engine(daemonID: nil).engineAPI() == nil, "no id known: the CLI")
        #expect(server.requests.count == 2, "a daemon without an id is not asked")
    }

    /// The process behind an engine's socket, as the socket's peer says: here the test's own, which serves it.
    @Test func theSocketsServerIsTheProcessThatListens() throws {
        let server = try CannedSocketServer(responses: [nil])
        #expect(UnixSocketHTTPClient.serverProcessID(of: server.path) == getpid())
        #expect(UnixSocketHTTPClient.serverProcessID(of: server.path + ".none") == nil)
    }
}

/// A Unix socket served on a thread of its own: each connection gets the next canned response (its request read
/// first), or, for nil, none at all until the server closes.
final class CannedSocketServer: Sendable {
    let path: String
    private let listener: Int32
    private let received = Mutex<[String]>([])
    private let closed = Mutex(false)

    var requests: [String] { received.withLock { $0 } }

    init(responses: [Data?]) throws {
        path = NSTemporaryDirectory() + "handson-api-\(UUID().uuidString.prefix(8)).sock"
        listener = try listeningSocket(at: path)
        let listening = listener
        Thread { [self] in
            var held: [Int32] = []
            for response in responses {
                let connection = acceptClosingOnExec(listening)
                guard connection >= 0 else { break }
                var request = Data()
                var buffer = [UInt8](repeating: 0, count: 4096)
                while request.firstRange(of: Data("\r\n\r\n".utf8)) == nil {
                    let count = recv(connection, &buffer, buffer.count, 0)
                    guard count > 0 else { break }
                    request.append(contentsOf: buffer[0..<count])
                }
                received.withLock { $0.append(String(decoding: request, as: UTF8.self)) }
                if let response {
                    _ = response.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    Glibc.close(connection)
                } else {
                    held.append(connection)
                }
            }
            while !closed.withLock({ $0 }) { usleep(20_000) }
            for connection in held { Glibc.close(connection) }
        }.start()
    }

    func close() {
        closed.withLock { $0 = true }
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
        unlink(path)
    }
}

/// A connection accepted on `listener`, closed on exec: a child another test spawns meanwhile must not keep it
/// open, or the client would wait for an end that comes only when that child exits.
func acceptClosingOnExec(_ listener: Int32) -> Int32 {
    let connection = accept(listener, nil, nil)
    if connection >= 0 { _ = fcntl(connection, F_SETFD, FD_CLOEXEC) }
    return connection
}

/// A Unix socket listening at `path`, as the engines' are; close-on-exec, as `acceptClosingOnExec`'s connections are.
func listeningSocket(at path: String) throws -> Int32 {
    let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    let bound = UnixSocketHTTPClient.withAddress(of: path) { bind(listener, $0, $1) }
    guard bound == 0, listen(listener, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
    return listener
}

/// An engine played by the test for a container run over the API: each connection on a thread of its own, its
/// request read whole (head and body) and handed to `respond` with the connection, which answers on it.
final class ScriptedEngineServer: Sendable {
    let path: String
    private let listener: Int32

    init(respond: @escaping @Sendable (_ requestLine: String, _ connection: Int32) -> Void) throws {
        path = NSTemporaryDirectory() + "handson-run-\(UUID().uuidString.prefix(8)).sock"
        listener = try listeningSocket(at: path)
        let listening = listener
        Thread {
            while true {
                let connection = acceptClosingOnExec(listening)
                guard connection >= 0 else { return }
                Thread {
                    var request = Data()
                    var byte: UInt8 = 0
                    // One byte at a time, so nothing past the head (an attach's input) is taken here.
                    while request.firstRange(of: Data("\r\n\r\n".utf8)) == nil, recv(connection, &byte, 1, 0) == 1 {
                        request.append(byte)
                    }
                    let head = String(decoding: request, as: UTF8.self)
                    let length =
                        head.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                        .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                    var body = [UInt8](repeating: 0, count: max(length, 1))
                    var read = 0
                    while read < length {
                        let count = body.withUnsafeMutableBytes {
                            recv(connection, $0.baseAddress! + read, length - read, 0)
                        }
                        guard count > 0 else { break }
                        read += count
                    }
                    respond(head.components(separatedBy: "\r\n").first ?? "", connection)
                }.start()
            }
        }.start()
    }

    static func answer(_ connection: Int32, _ text: String) {
        write(connection, Data(text.utf8))
        Glibc.close(connection)
    }

    static func write(_ connection: Int32, _ data: Data) {
        var sent = 0
        while sent < data.count {
            let count = data.withUnsafeBytes {
                send(connection, $0.baseAddress! + sent, data.count - sent, Int32(MSG_NOSIGNAL))
            }
            guard count > 0 else { return }
            sent += count
        }
    }

    static func frame(_ stream: UInt8, _ payload: Data) -> Data {
        let length = UInt32(payload.count)
        return Data([
            stream, 0, 0, 0, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF),
            UInt8(length & 0xFF),
        ]) + payload
    }

    func close() {
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
        unlink(path)
    }
}

@Suite("A container run over the Engine API, against an engine played by the test")
struct AttachedRunTests {
    /// The engine's side of create, start and wait; `attached` plays the container on the attach connection.
    static func engine(
        waitAnswer: String = "HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n{\"StatusCode\":0}\n",
        attached: @escaping @Sendable (Int32) -> Void
    ) throws -> ScriptedEngineServer {
        try ScriptedEngineServer { line, connection in
            if line.hasPrefix("POST /containers/create") {
                ScriptedEngineServer.answer(
                    connection, "HTTP/1.1 201 Created\r\nContent-Length: 13\r\n\r\n{\"Id\":\"c0ff\"}")
            } else if line.contains("/attach?") {
                ScriptedEngineServer.write(
                    connection,
                    Data("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n".utf8))
                attached(connection)
            } else if line.contains("/start ") {
                ScriptedEngineServer.answer(connection, "HTTP/1.1 204 No Content\r\n\r\n")
            } else if line.contains("/wait?condition=removed ") {
                ScriptedEngineServer.answer(connection, waitAnswer)
            } else {
                ScriptedEngineServer.answer(connection, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            }
        }
    }

    static func run(_ server: ScriptedEngineServer, input: Data, timeout: Double = 20) async throws
        -> AttachedRun.Outcome
    {
        try await AttachedRun(
            socketPath: server.path, name: "handson-check-test", configuration: Data("{}".utf8), input: input,
            timeout: timeout, outputLimit: 8 << 20, cancellable: true
        ).run()
    }

    /// A container that prints what it reads as it reads it (`cat`) is given 4 MB: its input is written while its
    /// output is read. Written whole first, both sides would wait on each other until the timeout.
    @Test func aLargeInputIsWrittenWhileTheOutputIsRead() async throws {
        let server = try Self.engine { connection in
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = recv(connection, &buffer, buffer.count, 0)
                guard count > 0 else { break }
                ScriptedEngineServer.write(connection, ScriptedEngineServer.frame(1, Data(buffer[0..<count])))
            }
            Glibc.close(connection)
        }
        defer { server.close() }
        let input = Data((0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 % 251) })
        let outcome = try await Self.run(server, input: input)
        guard case .ended(let exitCode, let timedOut, _, let stdout, _) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(exitCode == 0 && !timedOut)
        #expect(stdout.totalBytes == input.count && stdout.data == input)
    }

    /// A container that reads one line and exits (`head -n1`) leaves most of a large input unread; the engine
    /// closes the stream (the reset that brings) and that is the end of its output, not a lost engine.
    @Test func aContainerThatStopsReadingEndsItsRunNotTheEngine() async throws {
        let server = try Self.engine { connection in
            var line = Data()
            var byte: UInt8 = 0
            while recv(connection, &byte, 1, 0) == 1 {
                line.append(byte)
                if byte == 0x0A { break }
            }
            ScriptedEngineServer.write(connection, ScriptedEngineServer.frame(1, line))
            Glibc.close(connection)
        }
        defer { server.close() }
        let input = Data(("first line\n" + String(repeating: "more input that is never read\n", count: 40_000)).utf8)
        let outcome = try await Self.run(server, input: input)
        guard case .ended(let exitCode, let timedOut, _, let stdout, _) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(exitCode == 0 && !timedOut)
        #expect(stdout.text == "first line\n")
    }

    /// Once started, a run that loses its engine ends as lost (it is not run again another way), with what it
    /// printed until then.
    @Test func aRunThatLosesItsEngineAfterItStartedIsLostNotRetried() async throws {
        let server = try Self.engine(
            waitAnswer: "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 21\r\n\r\n{\"message\":\"gone\"}\n\n\n"
        ) { connection in
            ScriptedEngineServer.write(connection, ScriptedEngineServer.frame(1, Data("ran\n".utf8)))
            Glibc.close(connection)
        }
        defer { server.close() }
        let outcome = try await Self.run(server, input: Data())
        guard case .lost(let failure, let stdout, _) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(stdout.text == "ran\n")
        #expect("\(failure)".contains("gone"))
    }
}
