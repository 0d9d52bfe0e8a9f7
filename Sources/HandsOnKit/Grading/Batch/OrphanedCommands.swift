import Foundation
import HandsOnFormats
import HandsOnMessages
import HandsOnProcesses
import Synchronization

/// Engine commands a killed batch left running: found by the batch's label or tag on their command line (Linux `/proc`).
enum OrphanedCommands {
    /// Sends SIGTERM to every process whose arguments contain one of `markers`, and waits up to 10 s for them to go.
    static func stop(mentioning markers: [String]) async {
        let found = processes(mentioning: markers)
        guard !found.isEmpty else { return }
        for pid in found { kill(pid, SIGTERM) }
        for _ in 0..<100 where found.contains(where: { kill($0, 0) == 0 }) {
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The processes (not this one) whose command line holds one of `markers`: `/proc` listed with `readdir`, each
    /// `cmdline` read into one buffer and searched as bytes (a batch looks once, among every process of the machine).
    /// Only a command line's first 64 KiB are read: the markers are a tag and a label, among an engine command's
    /// first arguments.
    static func processes(mentioning markers: [String]) -> [pid_t] {
        let wanted = markers.map { Array($0.utf8) }.filter { !$0.isEmpty }
        guard !wanted.isEmpty, let proc = opendir("/proc") else { return [] }
        defer { closedir(proc) }
        let own = getpid()
        var found: [pid_t] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while let entry = readdir(proc) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = pid_t(name), pid > 0, pid != own else { continue }
            let descriptor = open("/proc/\(pid)/cmdline", O_RDONLY | O_CLOEXEC)
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
