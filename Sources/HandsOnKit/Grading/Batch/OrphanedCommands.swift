import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnMessages
import HandsOnProcesses
import Synchronization

/// Engine commands a killed batch left running: found by the batch's label or tag on their command line (Linux `/proc`).
enum OrphanedCommands {
    /// Sends SIGTERM to every process whose arguments contain one of `markers`, and waits up to 10 s for them to go.
    /// `processRoot` and `signal` are the machine's `/proc` and `kill` unless a test gives its own.
    static func stop(
        mentioning markers: [String], processRoot: String = "/proc",
        signal: @Sendable (pid_t, Int32) -> Int32 = { kill($0, $1) }
    ) async {
        let found = processes(mentioning: markers, processRoot: processRoot)
        guard !found.isEmpty else { return }
        for pid in found { _ = signal(pid, SIGTERM) }
        for _ in 0..<100 {
            guard found.contains(where: { signal($0, 0) == 0 }) else { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The processes (not this one) whose command line holds one of `markers`: `/proc` listed with `readdir`, each
    /// `cmdline` read into one buffer and searched as bytes (a batch looks once, among every process of the machine).
    /// Only a command line's first 64 KiB are read: the markers are a tag and a label, among an engine command's
    /// first arguments.
    static func processes(mentioning markers: [String], processRoot: String = "/proc", own: pid_t = getpid())
        -> [pid_t]
    {
        let wanted = markers.map { Array($0.utf8) }.filter { !$0.isEmpty }
        guard !wanted.isEmpty, let proc = opendir(processRoot) else { return [] }
        defer { closedir(proc) }
        var found: [pid_t] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while let entry = readdir(proc) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = pid_t(name), pid > 0, pid != own else { continue }
            let descriptor = open("\(processRoot)/\(pid)/cmdline", O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            let length = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
            guard length > 0 else { continue }
            // Arguments are NUL-separated; a marker never holds a NUL, so it cannot match across two of them.
            let holdsMarker = buffer.withUnsafeBufferPointer { bytes in
                let line = UnsafeBufferPointer(rebasing: bytes[..<length])
                return wanted.contains { ByteSearch.firstOffset(of: $0, in: line) != nil }
            }
            if holdsMarker { found.append(pid) }
        }
        return found
    }
}
