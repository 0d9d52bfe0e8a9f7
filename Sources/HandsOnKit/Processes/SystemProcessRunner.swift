import Foundation
import CSpawnSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs real programs with posix_spawn: the child gets its own process group, stdout and stderr are drained
/// by a poll loop while it runs (a pipe holds ~64 KB, so waiting first would deadlock), each capped in size,
/// and a timeout or cancellation ends the whole group with SIGTERM, then SIGKILL after a grace period.
public struct SystemProcessRunner: ProcessRunning {
    public let cancellation: CancellationSignal

    public init(cancellation: CancellationSignal = .shared) {
        self.cancellation = cancellation
        signal(SIGPIPE, SIG_IGN)
    }

    public func run(_ request: ProcessRequest) throws -> ProcessResult {
        guard let path = ExecutableLocator.find(request.executable, environment: request.environment) else {
            throw ProcessError.executableNotFound(request.executable)
        }
        let child = try SpawnedChild(path: path, request: request)
        return child.superviseToEnd(request: request, cancellation: cancellation)
    }
}

/// One running child and the parent's ends of its pipes.
private final class SpawnedChild {
    let pid: pid_t
    var outputFD: Int32
    var errorFD: Int32
    var inputFD: Int32
    var pendingInput: Data
    let started = Date()

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

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        switch request.standardInput {
        case .none: posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .file: posix_spawn_file_actions_adddup2(&actions, inputFileFD, 0)
        case .bytes: posix_spawn_file_actions_adddup2(&actions, inputPipe.read, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, outputPipe.write, 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe.write, 2)
        if let directory = request.workingDirectory {
            handson_spawn_add_chdir(&actions, directory)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([path] + request.arguments).map { strdup($0) } + [nil]
        let environment = request.environment ?? ProcessInfo.processInfo.environment
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }

        var childPID: pid_t = 0
        let status = posix_spawn(&childPID, path, &actions, &attributes, argv, envp)
        close(outputPipe.write)
        close(errorPipe.write)
        if inputPipe.read >= 0 { close(inputPipe.read) }
        guard status == 0 else {
            close(outputPipe.read)
            close(errorPipe.read)
            if inputPipe.write >= 0 { close(inputPipe.write) }
            throw ProcessError.spawnFailed(executable: path, errno: status)
        }
        pid = childPID
        outputFD = outputPipe.read
        errorFD = errorPipe.read
        inputFD = inputPipe.write
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

    func superviseToEnd(request: ProcessRequest, cancellation: CancellationSignal) -> ProcessResult {
        var output = CapturedOutput(limit: request.outputLimit)
        var errors = CapturedOutput(limit: request.outputLimit)
        var exitStatus: Int32?
        var exitedAt: Date?
        var timedOut = false
        var cancelled = false
        var killAt: Date?
        let deadline = started.addingTimeInterval(request.timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)

        while true {
            var pollSet: [pollfd] = []
            if outputFD >= 0 { pollSet.append(pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)) }
            if errorFD >= 0 { pollSet.append(pollfd(fd: errorFD, events: Int16(POLLIN), revents: 0)) }
            if inputFD >= 0 { pollSet.append(pollfd(fd: inputFD, events: Int16(POLLOUT), revents: 0)) }
            // With both pipes closed the child is exiting: look again for its end at once, not after a full 50 ms
            // (that wait, once per process, was a tenth of a grade's own time).
            _ = poll(&pollSet, nfds_t(pollSet.count), pollSet.isEmpty ? 1 : 50)

            if outputFD >= 0 { drain(&outputFD, into: &output, kind: .standardOutput, buffer: &buffer, request: request) }
            if errorFD >= 0 { drain(&errorFD, into: &errors, kind: .standardError, buffer: &buffer, request: request) }
            if inputFD >= 0 { feedInput() }

            if exitStatus == nil {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid {
                    exitStatus = status
                    exitedAt = Date()
                }
            }
            let now = Date()
            if let exitedAt {
                if outputFD < 0 && errorFD < 0 { break }
                // The child is gone but something it started still holds the pipes: end the group, keep what came.
                if now.timeIntervalSince(exitedAt) > 0.5 {
                    kill(-pid, SIGKILL)
                    closeAll()
                    break
                }
                continue
            }
            if !timedOut && !cancelled {
                if now >= deadline { timedOut = true } else if request.cancellable && cancellation.isRaised { cancelled = true }
                if timedOut || cancelled {
                    kill(-pid, SIGTERM)
                    killAt = now.addingTimeInterval(request.killGrace)
                }
            } else if let due = killAt, now >= due {
                kill(-pid, SIGKILL)
                killAt = nil
            }
        }
        if inputFD >= 0 { closeInput() }
        return ProcessResult(
            command: [request.executable] + request.arguments,
            termination: Self.decode(exitStatus ?? 0),
            timedOut: timedOut,
            cancelled: cancelled,
            standardOutput: output,
            standardError: errors,
            durationSeconds: Date().timeIntervalSince(started))
    }

    private func drain(_ fd: inout Int32, into capture: inout CapturedOutput, kind: OutputStreamKind,
                       buffer: inout [UInt8], request: ProcessRequest) {
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                let chunk = Data(buffer[0..<count])
                capture.append(chunk)
                request.onOutput?(kind, chunk)
                continue
            }
            if count == 0 || (errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK) {
                close(fd)
                fd = -1
            }
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
