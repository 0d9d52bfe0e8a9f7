import Foundation
import HandsOnFormats
import HandsOnMessages
import HandsOnProcesses

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Why a request to the engine's socket got no usable answer.
public enum EngineAPIError: Equatable, MessageError {
    /// The socket could not be reached (`errno` of `socket`, `connect`, `send` or `recv`).
    case unreachable(socket: String, errno: Int32)
    case timedOut(request: String, seconds: Double)
    case cancelled
    /// The engine answered with what is not HTTP, or ended early; the reason says where.
    case malformedResponse(request: String, reason: Message)
    case tooLarge(request: String, limit: Int)
    /// The engine refused: its status and its own message.
    case refused(request: String, status: Int, message: String)
    /// The body is not the JSON the request returns.
    case unexpectedBody(request: String, reason: String)

    public var message: Message {
        switch self {
        case .unreachable(let socket, let code):
            return Message(.engineAPI.unreachable, ["socket": socket, "reason": String(cString: strerror(code))])
        case .timedOut(let request, let seconds):
            return Message(.engineAPI.timedOut, ["request": request, "seconds": "\(Int(seconds.rounded(.up)))"])
        case .cancelled:
            return Message(.engineAPI.cancelled)
        case .malformedResponse(let request, let reason):
            return Message(.engineAPI.malformedResponse, ["request": request], parts: ["reason": reason])
        case .tooLarge(let request, let limit):
            return Message(.engineAPI.tooLarge, ["request": request, "limit": ByteFormatting.decimal(Int64(limit))])
        case .refused(let request, let status, let message):
            return Message(.engineAPI.refused, ["request": request, "status": "\(status)", "message": message])
        case .unexpectedBody(let request, let reason):
            return Message(.engineAPI.unexpectedBody, ["request": request, "reason": reason])
        }
    }
}

/// HTTP/1.1 over a Unix socket, one connection per request (`Connection: close`): how HandsOn speaks the Docker Engine
/// API on this machine instead of starting a docker CLI process for each question. Each exchange runs on a thread of
/// its own that sleeps in `poll` (never on the cooperative pool), within the request's timeout, its response bounded.
struct UnixSocketHTTPClient: Sendable {
    let socketPath: String

    struct Request: Sendable {
        var method: String
        /// The path and query, percent-encoded: `/images/golang:1.19/json`.
        var target: String
        var body: Data?
        var timeout: Double = 30
        var bodyLimit = 8 << 20
        /// Keep the first `bodyLimit` bytes of a longer body instead of failing.
        var truncating = false
        /// Clean-up work goes on after its task is cancelled (within its timeout).
        var cancellable = true
        /// Ask for the connection to become a raw stream (`attach`): `Connection: Upgrade`, `Upgrade: tcp`.
        var upgrade = false

        init(_ method: String, _ target: String, body: Data? = nil) {
            self.method = method
            self.target = target
            self.body = body
        }

        /// `GET /images/x/json`, as errors name the request.
        var summary: String { "\(method) \(target)" }

        var bytes: Data {
            let connection = upgrade ? "Connection: Upgrade\r\nUpgrade: tcp\r\n" : "Connection: close\r\n"
            var head = "\(method) \(target) HTTP/1.1\r\nHost: docker\r\nUser-Agent: handson\r\n\(connection)"
            if let body {
                head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
            } else if method != "GET" && method != "HEAD" {
                head += "Content-Length: 0\r\n"
            }
            return Data((head + "\r\n").utf8) + (body ?? Data())
        }
    }

    /// Sends the request and reads the whole response. Cancelling the task ends the exchange (unless the request is
    /// not `cancellable`).
    func send(_ request: Request) async throws(EngineAPIError) -> HTTPResponse {
        let socketPath = socketPath
        return try await Self.onOwnThread(cancellable: request.cancellable) { stop in
            Self.exchange(request, socketPath: socketPath, stop: stop)
        }
    }

    /// `work` on a thread of its own: its sockets are opened, used and closed there (nothing of them is shared), and
    /// it sleeps in `poll`, never on the cooperative pool. Cancelling the task raises `work`'s stop switch, unless the
    /// work is not `cancellable`.
    static func onOwnThread<Value: Sendable>(
        cancellable: Bool, _ work: @escaping @Sendable (StopSwitch) -> Result<Value, EngineAPIError>
    ) async throws(EngineAPIError) -> Value {
        if cancellable && Task.isCancelled { throw .cancelled }
        let stop = StopSwitch()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, EngineAPIError>, Never>) in
                let thread = Thread {
                    continuation.resume(returning: work(stop))
                    stop.close()
                }
                thread.stackSize = 256 << 10
                thread.start()
            }
        } onCancel: {
            if cancellable { stop.raise() }
        }
        return try result.get()
    }

    /// How a wait on a socket ended.
    enum Readiness {
        /// The socket is ready: the events `poll` reported (`POLLIN`, `POLLOUT`, `POLLHUP`, ...).
        case ready(Int16)
        case timedOut
        case stopped
        /// `poll` itself failed (its `errno`).
        case failed(Int32)
    }

    /// Waits until `descriptor` is ready for `events` (`POLLIN`, `POLLOUT`), the deadline passes or the stop switch
    /// (`stop`, a descriptor that becomes readable; -1 for none) is raised.
    static func wait(
        _ descriptor: Int32, for events: Int16, until deadline: ContinuousClock.Instant, stop: Int32
    ) -> Readiness {
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return .timedOut }
            let milliseconds = Int32(min(Double(Int32.max), (remaining.seconds * 1000).rounded(.up)))
            var descriptors = [
                pollfd(fd: descriptor, events: events, revents: 0), pollfd(fd: stop, events: Int16(POLLIN), revents: 0),
            ]
            let count = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
            if count < 0 {
                if errno == EINTR { continue }
                return .failed(errno)
            }
            if descriptors[1].revents != 0 { return .stopped }
            if count > 0 { return .ready(descriptors[0].revents) }
        }
    }

    /// `wait` for a request's socket, as the request's error: nil when the socket is ready.
    static func waitForRequest(
        _ descriptor: Int32, for events: Int32, until deadline: ContinuousClock.Instant, stop: Int32,
        request: Request, socketPath: String
    ) -> EngineAPIError? {
        switch wait(descriptor, for: Int16(events), until: deadline, stop: stop) {
        case .ready: return nil
        case .timedOut: return .timedOut(request: request.summary, seconds: request.timeout)
        case .stopped: return .cancelled
        case .failed(let code): return .unreachable(socket: socketPath, errno: code)
        }
    }

    /// A connected socket, blocking the calling thread at most until its timeout; the caller closes it.
    static func connectSocket(_ socketPath: String, timeout: Double) -> Result<Int32, EngineAPIError> {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .failure(.unreachable(socket: socketPath, errno: errno)) }
        // A Unix socket's connect waits only while the listener's backlog is full; the send timeout bounds that.
        var sendTimeout = timeval(tv_sec: max(1, Int(timeout.rounded(.up))), tv_usec: 0)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        guard let connected = withAddress(of: socketPath, { connect(descriptor, $0, $1) }) else {
            close(descriptor)
            return .failure(.unreachable(socket: socketPath, errno: ENAMETOOLONG))
        }
        guard connected == 0 else {
            let code = errno
            close(descriptor)
            return .failure(.unreachable(socket: socketPath, errno: code))
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        return .success(descriptor)
    }

    /// The process serving the socket at `path`, numbered as this process's pid namespace numbers it: 0 when it runs in
    /// a namespace this one does not see (HandsOn in a container without `--pid host`); nil when it cannot be reached.
    static func serverProcessID(of path: String) -> Int32? {
        guard case .success(let descriptor) = connectSocket(path, timeout: 2) else { return nil }
        defer { close(descriptor) }
        // `struct ucred`: pid, uid, gid.
        var credentials: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout.size(ofValue: credentials))
        guard getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 else { return nil }
        return credentials.pid
    }

    /// Calls `body` with the `sockaddr_un` of `path` and its length (for `connect` or `bind`); nil when the path is
    /// too long for one.
    static func withAddress<Value>(
        of path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Value
    ) -> Value? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// Sends all of `bytes` on a non-blocking socket, within the deadline.
    static func sendAll(
        _ bytes: Data, on descriptor: Int32, until deadline: ContinuousClock.Instant, stop: Int32,
        request: Request, socketPath: String
    ) -> EngineAPIError? {
        var sent = 0
        while sent < bytes.count {
            if let failure = waitForRequest(
                descriptor, for: POLLOUT, until: deadline, stop: stop, request: request, socketPath: socketPath)
            {
                return failure
            }
            let count = bytes.withUnsafeBytes {
                sendWithoutSignal(descriptor, $0.baseAddress.map { $0 + sent }, $0.count - sent)
            }
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return .unreachable(socket: socketPath, errno: errno)
            }
            sent += count
        }
        return nil
    }

    /// The whole exchange, blocking the calling thread: connect, send, read to the end of the response.
    static func exchange(_ request: Request, socketPath: String, stop: StopSwitch) -> Result<
        HTTPResponse, EngineAPIError
    > {
        let deadline = ContinuousClock.now + .seconds(request.timeout)
        let descriptor: Int32
        switch sendRequest(request, socketPath: socketPath, stop: stop, until: deadline) {
        case .success(let connected): descriptor = connected
        case .failure(let failure): return .failure(failure)
        }
        defer { close(descriptor) }
        return readResponse(to: request, on: descriptor, socketPath: socketPath, stop: stop, until: deadline)
    }

    /// Connects and sends the request; the caller reads the response (`readResponse`) and closes the socket.
    static func sendRequest(
        _ request: Request, socketPath: String, stop: StopSwitch, until deadline: ContinuousClock.Instant
    ) -> Result<Int32, EngineAPIError> {
        let descriptor: Int32
        switch connectSocket(socketPath, timeout: max(0.001, (deadline - ContinuousClock.now).seconds)) {
        case .success(let connected): descriptor = connected
        case .failure(let failure): return .failure(failure)
        }
        if let failure = sendAll(
            request.bytes, on: descriptor, until: deadline, stop: request.cancellable ? stop.readEnd : -1,
            request: request, socketPath: socketPath)
        {
            close(descriptor)
            return .failure(failure)
        }
        return .success(descriptor)
    }

    /// A reader for the response to `request`, with its limits.
    static func reader(for request: Request) -> HTTPResponseReader {
        HTTPResponseReader(
            bodyLimit: request.bodyLimit, truncating: request.truncating, headOnly: request.method == "HEAD",
            upgrading: request.upgrade)
    }

    /// Reads the response to `request` from `descriptor` to its end, within the deadline; `begun`: a reader that has
    /// read its start already (its head, say).
    static func readResponse(
        to request: Request, on descriptor: Int32, socketPath: String, stop: StopSwitch,
        until deadline: ContinuousClock.Instant, begun: HTTPResponseReader? = nil
    ) -> Result<HTTPResponse, EngineAPIError> {
        var reader = begun ?? reader(for: request)
        if let failure = read(
            &reader, for: request, on: descriptor, socketPath: socketPath, stop: stop, until: deadline)
        {
            return .failure(failure)
        }
        guard let response = reader.response else {
            return .failure(.malformedResponse(request: request.summary, reason: Message(.httpResponse.noResponse)))
        }
        return .success(response)
    }

    /// Feeds `reader` what `descriptor` receives until `enough` says so (by default, until the response is complete),
    /// within the deadline; nil once it has, else why not. The connection's end completes or refuses the response.
    static func read(
        _ reader: inout HTTPResponseReader, for request: Request, on descriptor: Int32, socketPath: String,
        stop: StopSwitch, until deadline: ContinuousClock.Instant,
        enough: (HTTPResponseReader) -> Bool = { $0.response != nil }
    ) -> EngineAPIError? {
        let stopDescriptor = request.cancellable ? stop.readEnd : -1
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !enough(reader) {
            if let failure = waitForRequest(
                descriptor, for: POLLIN, until: deadline, stop: stopDescriptor, request: request, socketPath: socketPath
            ) {
                return failure
            }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return .unreachable(socket: socketPath, errno: errno)
            }
            do {
                if count == 0 {
                    _ = try reader.finish()
                    return enough(reader)
                        ? nil : .malformedResponse(request: request.summary, reason: Message(.httpResponse.endedEarly))
                }
                try reader.feed(Data(buffer[0..<count]))
            } catch {
                switch error {
                case .malformed(let reason): return .malformedResponse(request: request.summary, reason: reason)
                case .tooLarge(let limit): return .tooLarge(request: request.summary, limit: limit)
                }
            }
        }
        return nil
    }
}

/// libc's `send`, without SIGPIPE when the peer has gone (named apart from `UnixSocketHTTPClient.send`).
private func sendWithoutSignal(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    send(descriptor, bytes, count, Int32(MSG_NOSIGNAL))
}
