import Foundation
import HandsOnFormats
import HandsOnMessages
import HandsOnProcesses

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A container run from start to end over the Engine API, as `docker run --rm -i` does it: created (to be removed by
/// the engine once it ends), attached (its standard streams become a raw stream on the attach connection), its end
/// waited for, started, given its input, read until its streams end, and its exit code read from the wait. A run cut
/// short leaves the container to the caller, which removes it by name as after the CLI's run. One thread of its own does it all (`UnixSocketHTTPClient.onOwnThread`), each step within the run's
/// deadline.
struct AttachedRun: Sendable {
    let socketPath: String
    let name: String
    /// The body of `POST /containers/create` (`EngineContainerConfiguration`, encoded).
    let configuration: Data
    let input: Data
    let timeout: Double
    let outputLimit: Int
    let cancellable: Bool

    enum Outcome: Sendable {
        /// The engine would not create it (no such image, no such network, ...): its own message.
        case notCreated(String)
        /// The engine could not start it (its command is not in the image, ...): its own message.
        case notStarted(String)
        case ended(exitCode: Int32?, timedOut: Bool, cancelled: Bool, stdout: CapturedOutput, stderr: CapturedOutput)
        /// The engine stopped answering after the container started: what it printed until then, and why. Never run
        /// again another way (it has run).
        case lost(EngineAPIError, stdout: CapturedOutput, stderr: CapturedOutput)
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
        func ask(_ request: UnixSocketHTTPClient.Request) -> Result<HTTPResponse, EngineAPIError> {
            UnixSocketHTTPClient.exchange(request, socketPath: socketPath, stop: stop)
        }

        // Created.
        let create = request(
            "POST", "/containers/create?name=\(DockerEngineAPI.queryValue(name))", body: configuration, until: deadline)
        let created: HTTPResponse
        switch ask(create) {
        case .success(let response): created = response
        case .failure(let failure): return .failure(failure)
        }
        if created.status == 404 { return .success(.notCreated(DockerEngineAPI.message(of: created))) }
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
        var head = UnixSocketHTTPClient.reader(for: attach)
        if let failure = UnixSocketHTTPClient.read(
            &head, for: attach, on: stream, socketPath: socketPath, stop: stop, until: deadline)
        {
            return .failure(failure)
        }
        guard let attached = head.response, attached.status == 101 || attached.status == 200 else {
            return .failure(.malformedResponse(request: attach.summary, reason: Message(.httpResponse.notUpgraded)))
        }
        var demultiplexer = StreamDemultiplexer(limit: outputLimit)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var streamEnded = false
        demultiplexer.feed(head.remainder)

        // Its end asked for before it starts, as `docker run --rm` does: the engine removes it once it has ended
        // (`AutoRemove`), and a wait asked after that would find no container.
        let wait = request("POST", "/containers/\(container)/wait?condition=removed", until: deadline)
        let waiting: Int32
        switch UnixSocketHTTPClient.sendRequest(wait, socketPath: socketPath, stop: stop, until: deadline) {
        case .success(let descriptor): waiting = descriptor
        case .failure(let failure): return .failure(failure)
        }
        defer { close(waiting) }
        // The engine answers the wait's head once it is registered: only then may the container start.
        var waitHead = UnixSocketHTTPClient.reader(for: wait)
        if let failure = UnixSocketHTTPClient.read(
            &waitHead, for: wait, on: waiting, socketPath: socketPath, stop: stop, until: deadline,
            enough: \.headRead)
        {
            return .failure(failure)
        }

        func lost(_ failure: EngineAPIError) -> Result<Outcome, EngineAPIError> {
            .success(.lost(failure, stdout: demultiplexer.stdout, stderr: demultiplexer.stderr))
        }
        // Started. A start that got no answer may still have started it: lost, never run again another way.
        let start = request("POST", "/containers/\(container)/start", until: deadline)
        switch ask(start) {
        case .success(let response) where response.succeeded || response.status == 304: break
        case .success(let response): return .success(.notStarted(DockerEngineAPI.message(of: response)))
        case .failure(.cancelled): return .failure(.cancelled)
        case .failure(let failure): return lost(failure)
        }
        func ended(exitCode: Int32? = nil, timedOut: Bool = false, cancelled: Bool = false) -> Result<
            Outcome, EngineAPIError
        > {
            .success(
                .ended(
                    exitCode: exitCode, timedOut: timedOut, cancelled: cancelled, stdout: demultiplexer.stdout,
                    stderr: demultiplexer.stderr))
        }

        // Its input written as it takes it, while what it prints is read: a program that prints as it reads waits
        // for us to read, as we would wait for it to read. Closing our side ends its standard input (`StdinOnce`);
        // a container that stops reading (or has exited) makes the rest of its input moot, as with `docker run -i`.
        var unsent = input
        if unsent.isEmpty { shutdown(stream, Int32(SHUT_WR)) }
        while !streamEnded {
            let events = Int16(POLLIN) | (unsent.isEmpty ? 0 : Int16(POLLOUT))
            let revents: Int16
            switch UnixSocketHTTPClient.wait(stream, for: events, until: deadline, stop: stopDescriptor) {
            case .ready(let ready): revents = ready
            case .timedOut: return ended(timedOut: true)
            case .stopped: return ended(cancelled: true)
            case .failed(let code): return lost(.unreachable(socket: socketPath, errno: code))
            }
            if !unsent.isEmpty && revents & Int16(POLLOUT) != 0 {
                let count = unsent.withUnsafeBytes { send(stream, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if count > 0 {
                    unsent = Data(unsent.dropFirst(count))
                } else if count < 0 && errno != EAGAIN && errno != EINTR {
                    unsent = Data()
                }
                if unsent.isEmpty { shutdown(stream, Int32(SHUT_WR)) }
            }
            guard revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 else { continue }
            let count = recv(stream, &buffer, buffer.count, 0)
            if count > 0 {
                demultiplexer.feed(Data(buffer[0..<count]))
            } else if count == 0 || errno == ECONNRESET || errno == EPIPE {
                // The engine closed the stream (a reset when it closed with our input still unread): the end.
                streamEnded = true
            } else if errno != EAGAIN && errno != EINTR {
                return lost(.unreachable(socket: socketPath, errno: errno))
            }
        }

        // Its exit code.
        struct Exit: Decodable {
            let statusCode: Int32
            /// Set when the engine could not remove it after it ended (`docker run --rm` then ends with 125).
            let error: Failure?
            struct Failure: Decodable {
                let message: String?
                enum CodingKeys: String, CodingKey { case message = "Message" }
            }
            enum CodingKeys: String, CodingKey {
                case statusCode = "StatusCode"
                case error = "Error"
            }
        }
        switch UnixSocketHTTPClient.readResponse(
            to: wait, on: waiting, socketPath: socketPath, stop: stop, until: deadline, begun: waitHead)
        {
        case .success(let response):
            guard response.succeeded, let exit = try? JSONDecoder().decode(Exit.self, from: response.body) else {
                return lost(
                    .refused(
                        request: wait.summary, status: response.status, message: DockerEngineAPI.message(of: response)))
            }
            if let message = exit.error?.message, !message.isEmpty {
                return lost(.refused(request: wait.summary, status: response.status, message: message))
            }
            return ended(exitCode: exit.statusCode)
        case .failure(.timedOut): return ended(timedOut: true)
        case .failure(.cancelled): return ended(cancelled: true)
        case .failure(let failure): return lost(failure)
        }
    }
}

/// The attach or log stream's frames as they arrive (an 8-byte header: stream 0-2, three zero bytes, the payload's
/// length, big-endian; then the payload), each stream kept as a process's output is: capped, head and tail. A header
/// that is no header (the stream lost its framing) is not guessed at: from there on the bytes go to stdout as they
/// are, so nothing is lost.
struct StreamDemultiplexer {
    private(set) var stdout: CapturedOutput
    private(set) var stderr: CapturedOutput
    /// Plain bytes (a terminal's stream, or framing lost): everything goes to stdout.
    private(set) var plain: Bool
    private var pending: [UInt8] = []
    /// Payload bytes still to come of the frame being read, and its stream.
    private var remaining = 0
    private var toStandardError = false

    init(limit: Int, plain: Bool = false) {
        stdout = CapturedOutput(limit: limit)
        stderr = CapturedOutput(limit: limit)
        self.plain = plain
    }

    /// Whether `header` (its first 4 bytes) starts a frame: a stream byte of 0-2, then three zero bytes.
    static func isFrameStart<Bytes: Collection<UInt8>>(_ header: Bytes) -> Bool {
        let bytes = Array(header.prefix(4))
        return bytes.count == 4 && bytes[0] <= 2 && bytes[1] == 0 && bytes[2] == 0 && bytes[3] == 0
    }

    mutating func feed(_ data: Data) {
        if plain {
            stdout.append(data)
            return
        }
        let bytes = pending + [UInt8](data)
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
            guard Self.isFrameStart(bytes[offset..<(offset + 4)]) else {
                plain = true
                stdout.append(Data(bytes[offset...]))
                return
            }
            toStandardError = bytes[offset] == 2
            remaining = bytes[(offset + 4)..<(offset + 8)].reduce(0) { $0 << 8 | Int($1) }
            offset += 8
        }
    }
}
