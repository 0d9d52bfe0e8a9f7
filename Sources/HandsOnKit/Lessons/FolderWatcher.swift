import Foundation
import HandsOnEngine

#if canImport(Glibc)
    import Glibc
#endif

/// Waits for a file under a folder to change: inotify where the kernel offers it (every sub-folder watched,
/// new ones added as they appear), else polling a snapshot of sizes and times twice a second.
public final class FolderWatcher {
    public enum Mechanism: String, Sendable { case inotify, polling }

    let directory: String
    public private(set) var mechanism: Mechanism
    private var inotifyDescriptor: Int32 = -1
    private var snapshot: FolderSnapshot

    /// `forcePolling` skips inotify (tests, and file systems where events do not arrive).
    public init(directory: String, forcePolling: Bool = false) {
        self.directory = directory
        snapshot = FolderSnapshot(directory)
        mechanism = .polling
        #if canImport(Glibc)
            if !forcePolling {
                let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
                if descriptor >= 0 {
                    inotifyDescriptor = descriptor
                    mechanism = .inotify
                    watchTree()
                }
            }
        #endif
    }

    deinit { if inotifyDescriptor >= 0 { close(inotifyDescriptor) } }

    /// Returns true when something changed, false when `timeout` passed or `shouldStop` became true first.
    public func waitForChange(timeout: Double, shouldStop: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline && !shouldStop() {
            if mechanism == .inotify ? eventArrived(within: 0.25) : pollChanged(after: 0.5) {
                // Let a burst of writes (an editor saving) settle, then swallow its remaining events.
                Thread.sleep(forTimeInterval: 0.1)
                _ = mechanism == .inotify ? drainEvents() : false
                snapshot = FolderSnapshot(directory)
                return true
            }
        }
        return false
    }

    /// The path that differed at the last change seen (for messages and tests): a path polling found, or the name of
    /// the entry an inotify event was about.
    public private(set) var lastChangedPath: String?

    /// True when a complete walk differs from the last complete one; a walk that could not read a folder or a
    /// file (out of descriptors, a folder removed while walked) tells nothing and is not a change.
    private func pollChanged(after interval: Double) -> Bool {
        Thread.sleep(forTimeInterval: interval)
        let now = FolderSnapshot(directory)
        guard now.isComplete, snapshot.isComplete else {
            if now.isComplete { snapshot = now }
            return false
        }
        guard let changed = now.firstDifference(from: snapshot) else { return false }
        lastChangedPath = changed
        return true
    }

    #if canImport(Glibc)
        private func watchTree() {
            let mask = UInt32(
                IN_CREATE | IN_MODIFY | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_ATTRIB)
            var folders = [directory]
            let enumerator = FileManager.default.enumerator(atPath: directory)
            while let path = enumerator?.nextObject() as? String {
                if path.hasPrefix(".handson") || path.hasPrefix(".git") {
                    enumerator?.skipDescendants()
                    continue
                }
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: "\(directory)/\(path)", isDirectory: &isDirectory),
                    isDirectory.boolValue
                {
                    folders.append("\(directory)/\(path)")
                }
            }
            for folder in folders { _ = inotify_add_watch(inotifyDescriptor, folder, mask) }
        }

        private func eventArrived(within seconds: Double) -> Bool {
            var descriptor = pollfd(fd: inotifyDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(seconds * 1000)) > 0 else { return false }
            return drainEvents()
        }

        /// Reads pending events; true if any concerns something other than HandsOn's own state folder.
        private func drainEvents() -> Bool {
            var relevant = false
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(inotifyDescriptor, $0.baseAddress, $0.count) }
                guard count > 0 else { break }
                var offset = 0
                while offset + MemoryLayout<inotify_event>.size <= count {
                    let (length, name, mask) = buffer.withUnsafeBytes { raw -> (Int, String, UInt32) in
                        let event = raw.load(fromByteOffset: offset, as: inotify_event.self)
                        let nameStart = offset + MemoryLayout<inotify_event>.size
                        let nameBytes = raw[nameStart..<min(nameStart + Int(event.len), count)].prefix { $0 != 0 }
                        return (Int(event.len), String(decoding: nameBytes, as: UTF8.self), event.mask)
                    }
                    // An event without a name is about a watched folder itself (its attributes, a watch dropped):
                    // no file in it changed, unless events were lost, and then anything may have.
                    let lost = mask & UInt32(IN_Q_OVERFLOW) != 0
                    if lost || (!name.isEmpty && name != ".handson" && !name.hasPrefix("state.json")) {
                        relevant = true
                        lastChangedPath = lost ? "(events lost)" : name
                    }
                    offset += MemoryLayout<inotify_event>.size + length
                }
            }
            if relevant { watchTree() }  // new sub-folders get watched too
            return relevant
        }
    #else
        private func eventArrived(within seconds: Double) -> Bool { pollChanged(after: seconds) }
        private func drainEvents() -> Bool { false }
    #endif
}

/// Size and modification time (nanoseconds) of every entry under a folder, HandsOn's `.handson` and `.git` left out.
struct FolderSnapshot: Equatable, Sendable {
    private(set) var entries: [String: [Int64]] = [:]
    /// False when a folder could not be listed or an entry could not be read for a reason other than its going away.
    private(set) var isComplete = true

    init(_ directory: String) { walk(directory, relative: "") }

    /// A path whose size or time differs, or that is only in one of the two; nil when they agree.
    func firstDifference(from other: FolderSnapshot) -> String? {
        for (path, facts) in entries.sorted(by: { $0.key < $1.key }) where other.entries[path] != facts { return path }
        return other.entries.keys.sorted().first { entries[$0] == nil }
    }

    private mutating func walk(_ directory: String, relative: String) {
        guard let stream = opendir(directory) else {
            if errno != ENOENT { isComplete = false }
            return
        }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." || (relative.isEmpty && (name == ".handson" || name == ".git")) { continue }
            let path = "\(directory)/\(name)"
            let key = relative.isEmpty ? name : "\(relative)/\(name)"
            var status = stat()
            guard lstat(path, &status) == 0 else {
                if errno != ENOENT { isComplete = false }
                continue
            }
            entries[key] = [
                Int64(status.st_size), Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec),
            ]
            if (status.st_mode & S_IFMT) == S_IFDIR { walk(path, relative: key) }
        }
    }
}
