import Foundation
import HandsOnEngine
import HandsOnKit
import Synchronization

/// Ctrl-C and SIGTERM cancel the command's task: running children are ended, clean-up runs (shielded, with its own
/// timeouts) and the command returns. A second Ctrl-C ends the tool at once.
enum InterruptHandling {
    /// Installs the handlers for `task`; keep the returned sources for as long as they should act.
    static func cancel(_ task: Task<Int32, Never>) -> [any DispatchSourceSignal] {
        let stopping = Atomic<Bool>(false)
        return [SIGINT, SIGTERM].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                if stopping.exchange(true, ordering: .acquiringAndReleasing) {
                    // Quitting at once: a live view's terminal is given back first.
                    RawTerminal.giveBack()
                    _exit(130)
                }
                let notice = Array("\nStopping (Ctrl-C again to quit at once)...\n".utf8)
                _ = notice.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
                task.cancel()
            }
            source.resume()
            return source
        }
    }
}
