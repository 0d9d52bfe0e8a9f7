import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A container run from start to end over the Engine API, as `docker run -i` does it: created, attached (its
/// standard streams become a raw stream on the attach connection), started, given its input, read until its streams
/// end, and its exit code asked. The container is not removed here: the caller removes it by name, as it does after
/// the CLI's run. One thread of its own does it all (`UnixSocketHTTPClient.onOwnThread`), each step within the run's
/// deadline.
struct AttachedRun: Sendable {
    let socketPath: String
    let name: String
    /// The body of `POST /containers/create` (`ContainerRunConfiguration`).
    let configuration: Data
    let input: Data
    let timeout: Double
    let outputLimit: Int
    let cancellable: Bool

    enum Outcome: Sendable {
        /// The engine has no such image: its own message.
        case noSuchImage(String)
        /// The engine could not start it (its command is not in the image, ...): its own message.
        case notStarted(String)
        case ended(exitCode: Int32?, timedOut: Bool, cancelled: Bool, stdout: CapturedOutput, stderr: CapturedOutput)
    }

    func run() async throws(EngineAPIError) -> Outcome {
        let run = self
        return try await UnixSocketHTTPClient.onOwnThread(cancellable: cancellable) { stop in
            run.runBlocking(stop: stop)
        }
    }

    private func request(
        _ method: String, _ target: String, body: Data? = nil, until deadline: ContinuousClock.Instant
    ) -> UnixSocketHTTPClient.Request {
        var request = UnixSocketHTTPClient.Request(method, target, body: body)
        request.timeout = max(0.001, (deadline - ContinuousClock.now).seconds)
        request.cancellable = cancellable
        return request
    }

    private func runBlocking(stop: StopSwitch) -> Result<Outcome, EngineAPIError> {
        let deadline = ContinuousClock.now + .seconds(timeout)
        let stopDescriptor = cancellable ? stop.readEnd : -1
        func send(_ request: UnixSocketHTTPClient.Request) -> Result<HTTPResponse, EngineAPIError> {
            UnixSocketHTTPClient.exchange(request, socketPath: socketPath, stop: stop)
        }

        // Created.
        let create = request(
            "POST", "/containers/create?name=\(DockerEngineAPI.queryValue(name))", body: configuration, until: deadline)
        let created: HTTPResponse
        switch send(create) {
        case .success(let response): created = response
        case .failure(let failure): return .failure(failure)
        }
        if created.status == 404 { return .success(.noSuchImage(DockerEngineAPI.message(of: created))) }
        struct Created: Decodable {
            let id: String
            enum CodingKeys: String, CodingKey { case id = "Id" }
        }
        guard created.succeeded, let id = try? JSONDecoder().decode(Created.self, from: created.body).id else {
            return .failure(
                .refused(
                    request: create.summary, status: created.status, message: DockerEngineAPI.message(of: created)))
        }
        let container = DockerEngineAPI.pathComponent(id)

        // Attached before it starts, so nothing it prints is missed.
        var attach = request(
            "POST", "/containers/\(container)/attach?stream=1&stdin=1&stdout=1&stderr=1", until: deadline)
        attach.upgrade = true
        let stream: Int32
        switch UnixSocketHTTPClient.connectSocket(socketPath, timeout: attach.timeout) {
        case .success(let descriptor): stream = descriptor
        case .failure(let failure): return .failure(failure)
        }
        defer { close(stream) }
        if let failure = UnixSocketHTTPClient.sendAll(
            attach.bytes, on: stream, until: deadline, stop: stopDescriptor, request: attach, socketPath: socketPath)
        {
            return .failure(failure)
        }
        var head = HTTPResponseReader(bodyLimit: 64 * 1024, upgrading: true)
        var demultiplexer = StreamDemultiplexer(limit: outputLimit)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var streamEnded = false
        /// Reads what is there: false at the deadline or on a stop, with `ended` set when the peer closed.
        func readSome(into handle: (Data) throws(HTTPResponseReader.Failure) -> Void) -> Result<
            Bool, EngineAPIError
        > {
            switch UnixSocketHTTPClient.wait(stream, for: Int16(POLLIN), until: deadline, stop: stopDescriptor) {
            case .ready: break
            case .timedOut: return .success(false)
            case .stopped: return .failure(.cancelled)
            }
            let count = recv(stream, &buffer, buffer.count, 0)
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { return .success(true) }
                return .failure(.unreachable(socket: socketPath, errno: errno))
            }
            if count == 0 {
                streamEnded = true
                return .success(true)
            }
            do {
                try handle(Data(buffer[0..<count]))
            } catch {
                return .failure(.malformedResponse(request: attach.summary, reason: "\(error)"))
            }
            return .success(true)
        }
        while head.response == nil && !streamEnded {
            switch readSome(into: { bytes throws(HTTPResponseReader.Failure) in try head.feed(bytes) }) {
            case .success(true): continue
            case .success(false): return .failure(.timedOut(request: attach.summary, seconds: timeout))
            case .failure(let failure): return .failure(failure)
            }
        }
        guard let attached = head.response, attached.status == 101 || attached.status == 200 else {
            return .failure(.malformedResponse(request: attach.summary, reason: "no upgraded stream"))
        }
        demultiplexer.feed(head.remainder)

        // Started, then given its input; closing our side ends its standard input (`StdinOnce`).
        let start = request("POST", "/containers/\(container)/start", until: deadline)
        switch send(start) {
        case .success(let response) where response.succeeded || response.status == 304: break
        case .success(let response): return .success(.notStarted(DockerEngineAPI.message(of: response)))
        case .failure(let failure): return .failure(failure)
        }
        if !input.isEmpty,
            let failure = UnixSocketHTTPClient.sendAll(
                input, on: stream, until: deadline, stop: stopDescriptor, request: attach, socketPath: socketPath)
        {
            if case .cancelled = failure { return .failure(failure) }
        }
        shutdown(stream, Int32(SHUT_WR))

        // Read until its streams end (it has exited) or the deadline passes.
        var timedOut = false
        while !streamEnded {
            switch readSome(into: { bytes in demultiplexer.feed(bytes) }) {
            case .success(true): continue
            case .success(false): timedOut = true
            case .failure(.cancelled):
                return .success(
                    .ended(
                        exitCode: nil, timedOut: false, cancelled: true, stdout: demultiplexer.stdout,
                        stderr: demultiplexer.stderr))
            case .failure(let failure): return .failure(failure)
            }
            if timedOut { break }
        }
        if timedOut {
            return .success(
                .ended(
                    exitCode: nil, timedOut: true, cancelled: false, stdout: demultiplexer.stdout,
                    stderr: demultiplexer.stderr))
        }

        // Its exit code.
        struct Exit: Decodable {
            let statusCode: Int32
            enum CodingKeys: String, CodingKey { case statusCode = "StatusCode" }
        }
        let wait = request("POST", "/containers/\(container)/wait", until: deadline)
        switch send(wait) {
        case .success(let response):
            guard response.succeeded, let exit = try? JSONDecoder().decode(Exit.self, from: response.body) else {
                return .failure(
                    .refused(
                        request: wait.summary, status: response.status, message: DockerEngineAPI.message(of: response)))
            }
            return .success(
                .ended(
                    exitCode: exit.statusCode, timedOut: false, cancelled: false, stdout: demultiplexer.stdout,
                    stderr: demultiplexer.stderr))
        case .failure(.timedOut):
            return .success(
                .ended(
                    exitCode: nil, timedOut: true, cancelled: false, stdout: demultiplexer.stdout,
                    stderr: demultiplexer.stderr))
        case .failure(let failure): return .failure(failure)
        }
    }
}

/// The attach stream's frames as they arrive (an 8-byte header: stream 1 or 2, three zero bytes, the length,
/// big-endian; then the payload), each stream kept as a process's output is: capped, head and tail.
struct StreamDemultiplexer {
    private(set) var stdout: CapturedOutput
    private(set) var stderr: CapturedOutput
    private var pending: [UInt8] = []
    /// Payload bytes still to come of the frame being read, and its stream.
    private var remaining = 0
    private var toStandardError = false

    init(limit: Int) {
        stdout = CapturedOutput(limit: limit)
        stderr = CapturedOutput(limit: limit)
    }

    mutating func feed(_ data: Data) {
        var bytes = pending + [UInt8](data)
        pending = []
        var offset = 0
        while offset < bytes.count {
            if remaining > 0 {
                let part = min(remaining, bytes.count - offset)
                let payload = Data(bytes[offset..<(offset + part)])
                if toStandardError { stderr.append(payload) } else { stdout.append(payload) }
                remaining -= part
                offset += part
                continue
            }
            guard bytes.count - offset >= 8 else {
                pending = Array(bytes[offset...])
                return
            }
            toStandardError = bytes[offset] == 2
            remaining = bytes[(offset + 4)..<(offset + 8)].reduce(0) { $0 << 8 | Int($1) }
            offset += 8
        }
        bytes.removeAll()
    }
}
