import CSpawnSupport
import Foundation
import HandsOnMessages
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs real programs with posix_spawn. The child gets its own process group; a supervisor thread of its own
/// drains stdout and stderr while it runs (a pipe holds ~64 KB, so waiting first would deadlock), each capped in
/// size, and sleeps in `poll` until a pipe has data, the child exits (its pidfd), the task is cancelled or the
/// deadline comes: nothing is polled on a timer. A timeout or cancellation ends the whole group with SIGTERM,
/// then SIGKILL after a grace period.
public struct SystemProcessRunner: ProcessRunning {
    public init() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Runs the request. Cancelling the calling task ends the child (unless the request is not `cancellable`:
    /// clean-up work that must finish runs on under its own timeout); a task cancelled before the call starts
    /// nothing and throws `CancellationError`.
    public func run(_ request: ProcessRequest) async throws -> ProcessResult {
        guard let path = ExecutableLocator.find(request.executable, environment: request.environment) else {
            throw ProcessError.executableNotFound(request.executable)
        }
        if request.cancellable { try Task.checkCancellation() }
        let stop = StopSwitch()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ProcessResult, any Error>) in
                // The child is spawned, supervised and let go on this one thread: nothing of it is shared.
                let supervisor = Thread {
                    continuation.resume(
                        with: Result { try Self.spawnAndSupervise(path: path, request: request, stop: stop) })
                }
                supervisor.stackSize = 256 << 10
                supervisor.start()
            }
        } onCancel: {
            if request.cancellable { stop.raise() }
        }
    }

    /// Starts the child and stays with it to its end, on the calling thread.
    private static func spawnAndSupervise(path: String, request: ProcessRequest, stop: StopSwitch) throws
        -> ProcessResult
    {
        defer { stop.close() }
        return try SpawnedChild(path: path, request: request).superviseToEnd(request: request, stop: stop)
    }
}

extension SystemProcessRunner {
    /// Runs the request on the calling thread, for code that cannot await (a `deinit`'s clean-up); no task can
    /// cancel it, so only its timeout ends it early.
    public func runBlocking(_ request: ProcessRequest) throws -> ProcessResult {
        guard let path = ExecutableLocator.find(request.executable, environment: request.environment) else {
            throw ProcessError.executableNotFound(request.executable)
        }
        return try Self.spawnAndSupervise(path: path, request: request, stop: StopSwitch())
    }
}

/// One running child and the parent's ends of its pipes; made, used and let go by its supervisor thread alone.
private final class SpawnedChild {
    let pid: pid_t
    var outputFD: Int32
    var errorFD: Int32
    var inputFD: Int32
    /// Readable once the child has exited: its pidfd, or a pipe a waiter thread writes to where there is no pidfd.
    var exitFD: Int32
    var pendingInput: Data
    let started = ContinuousClock.now

    init(path: String, request: ProcessRequest) throws {
        var inputFileFD: Int32 = -1
        if case .file(let inputPath) = request.standardInput {
            inputFileFD = open(inputPath, O_RDONLY | O_CLOEXEC)
            if inputFileFD < 0 { throw ProcessError.inputFileUnreadable(inputPath) }
        }
        defer { if inputFileFD >= 0 { close(inputFileFD) } }

        let outputPipe = try Self.makePipe()
        let errorPipe = try Self.makePipe()
        var inputPipe: (read: Int32, write: Int32) = (-1, -1)
        if case .bytes(let bytes) = request.standardInput {
            inputPipe = try Self.makePipe()
            pendingInput = bytes
        } else {
            pendingInput = Data()
        }
        var parentEnds = [outputPipe.read, errorPipe.read, inputPipe.write]
        var childEnds = [outputPipe.write, errorPipe.write, inputPipe.read]
        func closeAll(_ fds: inout [Int32]) {
            for fd in fds where fd >= 0 { close(fd) }
            fds = []
        }
        defer { closeAll(&childEnds) }

        /// Every setup call's status is checked: a failure names the step instead of starting a child set up wrong.
        func require(_ status: Int32, _ step: String) throws {
            guard status == 0 else {
                closeAll(&parentEnds)
                throw ProcessError.spawnFailed(executable: "\(path) (\(step))", errno: status)
            }
        }

        var actions = posix_spawn_file_actions_t()
        try require(posix_spawn_file_actions_init(&actions), "file actions")
        defer { posix_spawn_file_actions_destroy(&actions) }
        switch request.standardInput {
        case .none:
            try require(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0), "stdin from /dev/null")
        case .file: try require(posix_spawn_file_actions_adddup2(&actions, inputFileFD, 0), "stdin from a file")
        case .bytes: try require(posix_spawn_file_actions_adddup2(&actions, inputPipe.read, 0), "stdin pipe")
        }
        try require(posix_spawn_file_actions_adddup2(&actions, outputPipe.write, 1), "stdout pipe")
        try require(posix_spawn_file_actions_adddup2(&actions, errorPipe.write, 2), "stderr pipe")
        // Nothing but its three streams: a descriptor another thread opened without close-on-exec (a socket a
        // test's server accepted, say) would otherwise live on in the child, and its peer would wait for an end
        // that comes only when the child exits. Where the C library lacks this, close-on-exec alone holds.
        let closing = handson_spawn_add_closefrom(&actions, 3)
        if closing != 0 && closing != ENOSYS { try require(closing, "closing inherited descriptors") }
        if let directory = request.workingDirectory {
            try require(handson_spawn_add_chdir(&actions, directory), "working directory \(directory)")
        }

        var attributes = posix_spawnattr_t()
        try require(posix_spawnattr_init(&attributes), "attributes")
        defer { posix_spawnattr_destroy(&attributes) }
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        try require(posix_spawnattr_setsigdefault(&attributes, &defaultSignals), "default signals")
        try require(posix_spawnattr_setsigmask(&attributes, &emptyMask), "signal mask")
        try require(posix_spawnattr_setpgroup(&attributes, 0), "process group")
        try require(
            posix_spawnattr_setflags(
                &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)),
            "flags")

        let argv = ([path] + request.arguments).map { strdup($0) } + [nil]
        let environment = (request.environment ?? ProcessInfo.processInfo.environment).merging(
            request.addedEnvironment
        ) { $1 }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for argument in argv { free(argument) }
            for variable in envp { free(variable) }
        }

        var childPID: pid_t = 0
        // posix_spawn reports a failed exec (or chdir) in the child as its own return value.
        try require(posix_spawn(&childPID, path, &actions, &attributes, argv, envp), "spawn")
        pid = childPID
        outputFD = outputPipe.read
        errorFD = errorPipe.read
        inputFD = inputPipe.write
        exitFD = Self.exitDescriptor(for: childPID)
        for fd in [outputFD, errorFD, inputFD] where fd >= 0 {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        if inputFD >= 0 && pendingInput.isEmpty { closeInput() }
    }

    /// Pipes are close-on-exec so that children started at the same time on other threads never inherit them.
    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard handson_pipe_cloexec(&fds) == 0 else { throw ProcessError.spawnFailed(executable: "pipe", errno: errno) }
        return (fds[0], fds[1])
    }

    /// The child's pidfd; without one, a waiter thread blocks in `waitid` (leaving the child to be reaped by
    /// `waitpid` here) and then writes to a pipe whose read end is returned.
    private static func exitDescriptor(for pid: pid_t) -> Int32 {
        let pidfd = handson_pidfd_open(pid)
        if pidfd >= 0 { return pidfd }
        guard let pipe = try? makePipe() else { return -1 }
        let waiter = Thread {
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
            var byte: UInt8 = 1
            _ = write(pipe.write, &byte, 1)
            close(pipe.write)
        }
        waiter.stackSize = 64 << 10
        waiter.start()
        return pipe.read
    }

    func superviseToEnd(request: ProcessRequest, stop: StopSwitch) -> ProcessResult {
        var output = CapturedOutput(limit: request.outputLimit)
        var errors = CapturedOutput(limit: request.outputLimit)
        var exitStatus: Int32?
        var exitedAt: ContinuousClock.Instant?
        var timedOut = false
        var cancelled = false
        var killAt: ContinuousClock.Instant?
        let deadline = started + .seconds(request.timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        let stopFD = stop.readEnd

        while true {
            // The next moment something is due without any descriptor waking us: the deadline, the SIGKILL, or the
            // end of the half second a gone child's leftovers get to close the pipes.
            let now = ContinuousClock.now
            let due: ContinuousClock.Instant? =
                exitedAt.map { $0 + .milliseconds(500) } ?? killAt ?? (timedOut || cancelled ? nil : deadline)
            let waitMilliseconds =
                due.map { Int32(max(0, min(Double(Int32.max), (($0 - now).seconds * 1000).rounded(.up)))) } ?? -1

            var pollSet: [pollfd] = []
            if outputFD >= 0 { pollSet.append(pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)) }
            if errorFD >= 0 { pollSet.append(pollfd(fd: errorFD, events: Int16(POLLIN), revents: 0)) }
            if inputFD >= 0 { pollSet.append(pollfd(fd: inputFD, events: Int16(POLLOUT), revents: 0)) }
            if exitStatus == nil && exitFD >= 0 {
                pollSet.append(pollfd(fd: exitFD, events: Int16(POLLIN), revents: 0))
            }
            if !timedOut && !cancelled && stopFD >= 0 {
                pollSet.append(pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0))
            }
            // Without an exit descriptor (no pidfd and no waiter pipe) the child's end is looked for every 50 ms.
            let blind = exitFD < 0 && exitStatus == nil
            _ = poll(
                &pollSet, nfds_t(pollSet.count),
                blind && (waitMilliseconds < 0 || waitMilliseconds > 50) ? 50 : waitMilliseconds)

            if outputFD >= 0 {
                drain(&outputFD, into: &output, kind: .standardOutput, buffer: &buffer, request: request)
            }
            if errorFD >= 0 { drain(&errorFD, into: &errors, kind: .standardError, buffer: &buffer, request: request) }
            if inputFD >= 0 { feedInput() }

            if exitStatus == nil {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid {
                    exitStatus = status
                    exitedAt = ContinuousClock.now
                    closeExitDescriptor()
                }
            }
            let after = ContinuousClock.now
            if let exitedAt {
                if outputFD < 0 && errorFD < 0 { break }
                // The child is gone but something it started still holds the pipes: end the group, keep what came
                // (what is in the pipes by now too).
                if after - exitedAt >= .milliseconds(500) {
                    kill(-pid, SIGKILL)
                    if outputFD >= 0 {
                        drain(&outputFD, into: &output, kind: .standardOutput, buffer: &buffer, request: request)
                    }
                    if errorFD >= 0 {
                        drain(&errorFD, into: &errors, kind: .standardError, buffer: &buffer, request: request)
                    }
                    closeAll()
                    break
                }
                continue
            }
            if !timedOut && !cancelled {
                if after >= deadline {
                    timedOut = true
                } else if stopFD >= 0, pollSet.contains(where: { $0.fd == stopFD && $0.revents != 0 }) {
                    cancelled = true
                }
                if timedOut || cancelled {
                    kill(-pid, SIGTERM)
                    killAt = after + .seconds(request.killGrace)
                }
            } else if let due = killAt, after >= due {
                kill(-pid, SIGKILL)
                killAt = nil
            }
        }
        if inputFD >= 0 { closeInput() }
        closeExitDescriptor()
        return ProcessResult(
            command: [request.executable] + request.arguments,
            termination: Self.decode(exitStatus ?? 0),
            timedOut: timedOut,
            cancelled: cancelled,
            standardOutput: output,
            standardError: errors,
            durationSeconds: (ContinuousClock.now - started).seconds)
    }

    private func drain(
        _ fd: inout Int32, into capture: inout CapturedOutput, kind: OutputStreamKind,
        buffer: inout [UInt8], request: ProcessRequest
    ) {
        while true {
            // errno is read in the closure, next to the call that set it.
            let (count, code) = buffer.withUnsafeMutableBytes { bytes in
                let count = read(fd, bytes.baseAddress, bytes.count)
                return (count, count < 0 ? errno : 0)
            }
            if count > 0 {
                let chunk = Data(buffer[0..<count])
                capture.append(chunk)
                request.onOutput?(kind, chunk)
                continue
            }
            if count < 0 && (code == EAGAIN || code == EINTR || code == EWOULDBLOCK) { return }
            // The end of the stream, or an error. EBADF means the number is no longer this pipe (something closed
            // it): closing it again could close another thread's descriptor, so it is only let go.
            if code != EBADF { close(fd) }
            fd = -1
            return
        }
    }

    private func feedInput() {
        let written = pendingInput.withUnsafeBytes { write(inputFD, $0.baseAddress, min($0.count, 65536)) }
        if written > 0 {
            pendingInput.removeFirst(written)
            if pendingInput.isEmpty { closeInput() }
        } else if written < 0 && errno != EAGAIN && errno != EINTR {
            closeInput()
        }
    }

    private func closeInput() {
        close(inputFD)
        inputFD = -1
    }

    private func closeExitDescriptor() {
        if exitFD >= 0 { close(exitFD) }
        exitFD = -1
    }

    private func closeAll() {
        for fd in [outputFD, errorFD, inputFD] where fd >= 0 { close(fd) }
        outputFD = -1
        errorFD = -1
        inputFD = -1
    }

    /// The wait status as exit code or signal (WIFEXITED and friends are macros Swift cannot see).
    static func decode(_ status: Int32) -> Termination {
        let signalNumber = status & 0x7f
        return signalNumber == 0 ? .exited((status >> 8) & 0xff) : .signaled(signalNumber)
    }
}
