import Foundation
import HandsOnEngine
import HandsOnKit
import HandsOnMessages
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `handson watch` (and `handson check --watch`): the current step checked again whenever a file in the folder
/// changes or the engine reports an image or container change, shown full-screen on a terminal.
struct WatchCommand: Command {
    let spec = CommandSpec(
        ["watch"], summary: "help.watch.summary",
        options: [.engine, LessonSession.languageOption],
        discussion: "help.watch.discussion")

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let engine = try await EngineOption.engine(from: arguments, in: context)
        let session = try LessonSession.open(arguments, in: context)
        return try await LiveView(
            session: session, engine: engine, context: context,
            forcePolling: context.environment["HANDSON_WATCH_POLLING"] == "1"
        ).run()
    }
}

/// What the view shows: which step, its last check results, a message, and which panel is open.
struct WatchState: Sendable {
    enum Panel: Sendable { case checks, hint, text, chapters }

    var stepIndex: Int
    var results: [CheckResult] = []
    var checking = false
    var panel = Panel.checks
    var status = ""
    var engineConnected = true
}

/// The full-screen view: a pure function of the state, so tests can read it line by line.
enum WatchScreen {
    static func render(_ state: WatchState, session: LessonSession, hints: [String], width: Int, height: Int)
        -> [String]
    {
        let chapter = session.chapter
        let step = chapter.steps[state.stepIndex]
        let total = chapter.steps.count
        var lines = [chapter.title.text(in: session.language), ""]
        let done =
            chapter.steps.prefix(state.stepIndex).count
            + (state.results.allSatisfy(\.passed) && !state.results.isEmpty ? 1 : 0)
        let barWidth = max(10, min(40, width - 30))
        let filled = total == 0 ? 0 : barWidth * done / total
        lines.append(
            "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: barWidth - filled) + "] "
                + say(.watchCommand.stepValueTotal, ["value": "\(state.stepIndex + 1)", "total": "\(total)"])
                + step.title.text(in: session.language))
        lines.append("")
        switch state.panel {
        case .checks:
            if state.results.isEmpty {
                lines.append(say(state.checking ? .cli.watch.checking : .cli.watch.notCheckedYet))
            }
            for result in state.results { lines.append("\(result.passed ? "✓" : "✗") \(result.id): \(result.message)") }
            if !state.results.isEmpty && state.results.allSatisfy(\.passed) {
                lines.append("")
                lines.append(
                    state.stepIndex + 1 < total
                        ? say(.watchCommand.stepPassedPressN)
                        : say(.watchCommand.stepPassedChapterDone))
            }
        case .hint:
            lines.append(say(.cli.watch.hintTitle))
            lines.append(String(repeating: "-", count: say(.cli.watch.hintTitle).terminalWidth))
            lines += hints.isEmpty ? [say(.cli.watch.noHintAllPass)] : hints.map { "• " + $0 }
        case .text:
            lines += session.text(of: step).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        case .chapters:
            lines.append(say(.cli.watch.stepsOf, ["chapter": chapter.id]))
            for (index, each) in chapter.steps.enumerated() {
                let mark = session.progress.passedSteps.contains(each.id) ? "✓" : (index == state.stepIndex ? ">" : " ")
                lines.append("\(mark) \(index + 1). \(each.title.text(in: session.language))")
            }
        }
        var footer: [String] = []
        if !state.engineConnected { footer.append(say(.cli.watch.eventStreamLostFooter)) }
        if !state.status.isEmpty { footer.append(state.status) }
        footer.append(say(.cli.watch.keys))
        let room = max(1, height - footer.count - 1)
        // The title and the progress bar stay one line each; what follows is wrapped to the terminal's width.
        let wrapped = Array(lines.prefix(3)) + lines.dropFirst(3).flatMap { wrap($0, width: width) }
        let body = wrapped.count > room ? Array(wrapped.prefix(room - 1)) + ["…"] : wrapped
        return (body + Array(repeating: "", count: max(0, room - body.count)) + [""] + footer).map { line in
            line.count > width ? String(line.prefix(max(1, width - 1))) + "…" : line
        }
    }
}

extension WatchScreen {
    /// A line broken at spaces into lines of at most `width` characters (a longer word is left to be cut).
    static func wrap(_ line: String, width: Int) -> [String] {
        guard line.count > width, width > 10 else { return [line] }
        var lines: [String] = []
        var current = ""
        let indent = line.hasPrefix("• ") ? "  " : ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            if !current.isEmpty && current.count + 1 + word.count > width {
                lines.append(current)
                current = indent + word
            } else {
                current += (current.isEmpty ? "" : " ") + word
            }
        }
        lines.append(current)
        return lines
    }
}

/// Everything that can wake the view.
enum WatchInput: Sendable {
    case key(UInt8)
    case fileChanged
    case engine(EngineEventUpdate)
    case resized
    case checkNow
}

/// Runs the view: inputs from the keyboard, the folder, the engine and the terminal in one stream; checks debounced.
struct LiveView {
    var session: LessonSession
    let engine: ContainerEngine
    let context: CommandContext
    let forcePolling: Bool
    /// Also check again this often (seconds), whatever happens.
    var every: Double?

    /// Changes within this long of each other make one check.
    static let debounce = Duration.milliseconds(300)

    func run() async throws -> Int32 {
        let terminal = context.io.outputIsTerminal ? RawTerminal.enter() : nil
        defer { terminal?.restore() }
        let (inputs, sink) = AsyncStream<WatchInput>.makeStream()
        // The key reader is stopped (and waited for) before the terminal is given back.
        let keys = terminal.map { _ in KeyReader.start { sink.yield(.key($0)) } }
        let code = await follow(inputs, sink, terminal: terminal)
        await keys?.stop()
        return code
    }

    /// The view itself, until `q`, Ctrl-C or the end of its inputs.
    private func follow(
        _ inputs: AsyncStream<WatchInput>, _ sink: AsyncStream<WatchInput>.Continuation, terminal: RawTerminal?
    ) async -> Int32 {
        var session = self.session
        let io = context.io
        var producers: [Task<Void, Never>] = []
        defer { for producer in producers { producer.cancel() } }
        producers.append(Task { for await update in engine.followEvents() { sink.yield(.engine(update)) } })
        if let every {
            producers.append(
                Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(every))
                        sink.yield(.checkNow)
                    }
                })
        }
        let stopWatching = Atomic<Bool>(false)
        defer { stopWatching.store(true, ordering: .releasing) }
        let watcher = FolderWatcherOnThread(directory: session.directory, forcePolling: forcePolling)
        let mechanism = await watcher.start(
            until: { stopWatching.load(ordering: .acquiring) }, { sink.yield(.fileChanged) })
        if terminal == nil {
            io.out(
                say(
                    .cli.watch.watchingChangesCtrlStops,
                    ["directory": "\(session.directory)", "mechanism": "\(mechanism.rawValue)"]))
        }
        let resize = terminal.map { _ in ResizeSignal.start { sink.yield(.resized) } }
        defer { resize?.cancel() }

        var state = WatchState(
            stepIndex: session.chapter.steps.firstIndex { $0.id == session.progress.currentStep } ?? 0)
        var debounce: Task<Void, Never>?
        func schedule() {
            debounce?.cancel()
            debounce = Task {
                try? await Task.sleep(for: Self.debounce)
                if !Task.isCancelled { sink.yield(.checkNow) }
            }
        }
        func draw() {
            guard let terminal else { return }
            // Hints read the Dockerfile and the step texts: only when their panel is open.
            let step = session.chapter.steps[state.stepIndex]
            let hints =
                state.panel != .hint
                ? []
                : Hints.select(
                    for: step, in: session.chapter, results: state.results, directory: session.directory,
                    language: session.language)
            let size = terminal.size()
            let lines = WatchScreen.render(
                state, session: session, hints: hints, width: size.columns, height: size.rows)
            io.out("\u{1B}[H\u{1B}[2J" + lines.joined(separator: "\r\n"), terminator: "")
        }
        sink.yield(.checkNow)
        draw()
        for await input in inputs {
            if Task.isCancelled { break }
            switch input {
            case .key(let byte):
                switch Character(UnicodeScalar(byte)) {
                case "q", "Q": return ExitCode.success
                case "h": state.panel = state.panel == .hint ? .checks : .hint
                case "s": state.panel = state.panel == .text ? .checks : .text
                case "l": state.panel = state.panel == .chapters ? .checks : .chapters
                case "r": sink.yield(.checkNow)
                case "n":
                    let passed = !state.results.isEmpty && state.results.allSatisfy(\.passed)
                    if passed && state.stepIndex + 1 < session.chapter.steps.count {
                        state.stepIndex += 1
                        state.results = []
                        state.panel = .checks
                        sink.yield(.checkNow)
                    } else {
                        state.status = passed ? say(.cli.watch.lastStep) : say(.cli.watch.passFirst)
                    }
                default: break
                }
            case .fileChanged:
                state.status = say(.cli.watch.fileChanged)
                if terminal == nil { io.out(io.outputStyle.dim(say(.cli.watch.fileChangedCheckingAgain))) }
                schedule()
            case .engine(let update):
                switch update {
                case .connected: state.engineConnected = true
                case .lost(let reason):
                    state.engineConnected = false
                    if terminal == nil { io.out(say(.cli.watch.engineEventStreamWas, ["reason": "\(reason)"])) }
                case .event(let event):
                    guard event.isRelevant else { continue }
                    let what = "\(event.type) \(event.action)" + (event.name.map { " \($0)" } ?? "")
                    state.status = say(.cli.watch.engineEvent, ["event": what])
                    if terminal == nil {
                        io.out(io.outputStyle.dim(say(.cli.watch.engineEventCheckingAgain, ["event": what])))
                    }
                    schedule()
                }
            case .resized: break
            case .checkNow:
                state.checking = true
                draw()
                let step = session.chapter.steps[state.stepIndex]
                state.results = await CheckRunner().run(step.checks, in: session.checkContext(engine: engine))
                state.checking = false
                if session.progress.currentStep == step.id {
                    _ = session.progress.record(state.results, for: step, in: session.chapter)
                    try? session.progress.save(in: session.directory)
                }
                if terminal == nil {
                    io.out(session.heading(of: step))
                    CheckLines.print(state.results, io: io)
                    io.out(
                        say(
                            state.results.allSatisfy(\.passed) ? .cli.watch.stepPassed : .cli.watch.watchingForChanges
                        ))
                }
            }
            draw()
        }
        if terminal == nil { io.out(say(.cli.watch.stoppedWatching)) }
        return ExitCode.success
    }
}

/// The terminal in cbreak mode on the alternate screen, cursor hidden; `restore()` gives it back as it was.
/// The settings to put back live in one place, so that a second Ctrl-C, which ends the process at once, can give the
/// terminal back too (`giveBack()`).
final class RawTerminal: Sendable {
    private init() {}

    static func enter() -> RawTerminal? {
        var original = termios()
        guard tcgetattr(STDIN_FILENO, &original) == 0 else { return nil }
        var raw = original
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        Self.active.withLock { $0 = original }
        writeOut("\u{1B}[?1049h\u{1B}[?25l")
        return RawTerminal()
    }

    func restore() { Self.giveBack() }

    /// Puts back the settings found on entering and leaves the alternate screen; nothing when none is held.
    static func giveBack() {
        guard
            var original = active.withLock({ settings in
                defer { settings = nil }
                return settings
            })
        else { return }
        tcsetattr(STDIN_FILENO, TCSANOW, &original)
        writeOut("\u{1B}[?25h\u{1B}[?1049l")
    }

    private static func writeOut(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }

    func size() -> (columns: Int, rows: Int) {
        var window = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &window) == 0, window.ws_col > 0 else { return (80, 24) }
        return (Int(window.ws_col), Int(window.ws_row))
    }

    /// The settings found on entering, while the view holds the terminal.
    private static let active = Mutex<termios?>(nil)
}

/// Reads single key presses on a thread of its own until stopped. It waits for input in slices of 50 ms, so `stop()`
/// ends it: a line typed just after the view ends goes to the shell, not to a read still pending here.
final class KeyReader: Sendable {
    private let stopped = Atomic<Bool>(false)
    /// Whether the thread has ended, and who waits for it to.
    private let end = Mutex<(finished: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    private init() {}

    static func start(_ deliver: @escaping @Sendable (UInt8) -> Void) -> KeyReader {
        let keys = KeyReader()
        let reader = Thread {
            defer {
                keys.end.withLock { end in
                    end.finished = true
                    end.waiter?.resume()
                    end.waiter = nil
                }
            }
            var byte: UInt8 = 0
            while !keys.stopped.load(ordering: .acquiring) {
                var waiting = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
                let ready = poll(&waiting, 1, 50)
                if ready < 0 && errno != EINTR { return }
                guard ready > 0 else { continue }
                guard read(STDIN_FILENO, &byte, 1) == 1 else { return }
                deliver(byte)
            }
        }
        reader.stackSize = 64 << 10
        reader.start()
        return keys
    }

    /// Stops reading and waits for the thread to end (at most one 50 ms slice).
    func stop() async {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await withCheckedContinuation { waiter in
            end.withLock { end in
                if end.finished { waiter.resume() } else { end.waiter = waiter }
            }
        }
    }
}

/// SIGWINCH as a callback.
enum ResizeSignal {
    static func start(_ deliver: @escaping @Sendable () -> Void) -> any DispatchSourceSignal {
        signal(SIGWINCH, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global())
        source.setEventHandler(handler: deliver)
        source.resume()
        return source
    }
}

/// The folder watcher (blocking) on a thread of its own, calling back on every change until told to stop.
struct FolderWatcherOnThread: Sendable {
    let directory: String
    let forcePolling: Bool

    /// Starts watching; returns how (inotify or polling) once the watch is set up.
    func start(until stop: @escaping @Sendable () -> Bool, _ changed: @escaping @Sendable () -> Void) async
        -> FolderWatcher.Mechanism
    {
        let (directory, forcePolling) = (directory, forcePolling)
        return await withCheckedContinuation { ready in
            let thread = Thread {
                let watcher = FolderWatcher(directory: directory, forcePolling: forcePolling)
                ready.resume(returning: watcher.mechanism)
                while !stop() {
                    if watcher.waitForChange(timeout: 3600, shouldStop: stop) { changed() }
                }
            }
            thread.stackSize = 256 << 10
            thread.start()
        }
    }
}
