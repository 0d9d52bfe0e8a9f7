import Foundation

/// A process-wide "stop now" flag, raised by Ctrl-C; running children are ended and cleanups run.
public final class CancellationSignal: @unchecked Sendable {
    public static let shared = CancellationSignal()

    private let lock = NSLock()
    private var raised = false
    private var cleanups: [Int: @Sendable () -> Void] = [:]
    private var nextToken = 0

    public init() {}

    public var isRaised: Bool { lock.withLock { raised } }

    public func raise() {
        let pending: [@Sendable () -> Void] = lock.withLock {
            raised = true
            // Newest first: a container registered after the image it runs from goes before that image.
            let all = cleanups.sorted { $0.key > $1.key }.map(\.value)
            cleanups.removeAll()
            return all
        }
        for cleanup in pending { cleanup() }
    }

    /// Registers work to do if the run is cancelled (remove a container, say); returns a token to unregister it.
    /// On cancellation the newest registered runs first.
    @discardableResult
    public func onCancel(_ cleanup: @escaping @Sendable () -> Void) -> Int {
        lock.withLock {
            nextToken += 1
            cleanups[nextToken] = cleanup
            return nextToken
        }
    }

    public func remove(_ token: Int) {
        _ = lock.withLock { cleanups.removeValue(forKey: token) }
    }

    /// Raises the flag on SIGINT and SIGTERM (once; a second Ctrl-C ends the tool at once).
    public func installSignalHandlers() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                if self.isRaised { _exit(130) }
                let notice = Array("\nStopping (Ctrl-C again to quit at once)...\n".utf8)
                _ = notice.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
                self.raise()
            }
            source.resume()
            Self.sources.withLock { $0.append(source) }
        }
    }

    private static let sources = LockedBox<[any DispatchSourceSignal]>([])
}

/// A value behind a lock.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
