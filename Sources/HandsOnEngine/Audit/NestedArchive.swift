import Foundation
import HandsOnFormats

/// The entries of an archive held in memory, told by its first bytes (not its name): a tar, a gzip stream (a tar
/// inside it read as one), a zip or jar. Regular files only, each at most what `budget` still allows: what an archive
/// unpacks to is bounded, so a small bomb costs a little memory and time, not the host.
enum NestedArchive {
    struct Entry {
        let path: String
        let bytes: [UInt8]
    }

    /// The entries, and why the archive was not read to its end (its unpacked bytes past `budget`, a zip entry
    /// packed a way this reader does not know), if it was not.
    static func entries(of bytes: UnsafeRawBufferPointer, budget: inout Int) -> (entries: [Entry], unread: String?) {
        guard isArchive(bytes) else { return ([], nil) }
        guard budget > 0 else { return ([], "unpacked-limit") }
        if bytes[0] == 0x1f && bytes[1] == 0x8b {
            let inflated = inflate(bytes, raw: false, budget: &budget)
            let spent = budget <= 0 ? "unpacked-limit" : nil
            if inflated.withUnsafeBytes({ isTar($0) }) {
                let read = inflated.withUnsafeBytes { tarEntries($0, budget: &budget) }
                return (read, spent ?? (budget <= 0 ? "unpacked-limit" : nil))
            }
            return ([Entry(path: gzipName(bytes) ?? "-", bytes: inflated)], spent)
        }
        if isTar(bytes) {
            let read = tarEntries(bytes, budget: &budget)
            return (read, budget <= 0 ? "unpacked-limit" : nil)
        }
        var unread: String?
        let read = zipEntries(bytes, budget: &budget, unread: &unread)
        return (read, unread ?? (budget <= 0 ? "unpacked-limit" : nil))
    }

    /// Whether the bytes are an archive this reader opens: gzip, tar, zip.
    static func isArchive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 4 else { return false }
        return (bytes[0] == 0x1f && bytes[1] == 0x8b) || isTar(bytes)
            || (bytes[0] == 0x50 && bytes[1] == 0x4b && bytes[2] == 3 && bytes[3] == 4)
    }

    /// The kind of a compressed file or archive this reader cannot open, told by its first bytes.
    static func unreadableFormat(_ bytes: UnsafeRawBufferPointer) -> String? {
        func starts(_ magic: [UInt8]) -> Bool {
            bytes.count >= magic.count && zip(magic, bytes).allSatisfy { $0 == $1 }
        }
        if starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return "xz" }
        if starts([0x28, 0xb5, 0x2f, 0xfd]) { return "zstd" }
        if starts([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) { return "7z" }
        if starts([0x52, 0x61, 0x72, 0x21, 0x1a, 0x07]) { return "rar" }
        // `BZh`, a block size digit and the block magic (pi's digits): a text that starts with "BZh" is not one.
        if bytes.count >= 10, starts(Array("BZh".utf8)), (49...57).contains(bytes[3]),
            zip([0x31, 0x41, 0x59, 0x26, 0x53, 0x59] as [UInt8], bytes[4..<10]).allSatisfy({ $0 == $1 })
        {
            return "bzip2"
        }
        return nil
    }

    static func isTar(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 512 && Array(bytes[257..<262]) == Array("ustar".utf8)
    }

    /// The original name a gzip header carries (FNAME), if any.
    static func gzipName(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count > 10, bytes[3] & 0x08 != 0 else { return nil }
        var cursor = 10
        if bytes[3] & 0x04 != 0 {
            guard cursor + 2 <= bytes.count else { return nil }
            cursor += 2 + Int(bytes[cursor]) + Int(bytes[cursor + 1]) << 8
        }
        guard cursor < bytes.count else { return nil }
        var end = cursor
        while end < bytes.count, bytes[end] != 0, end - cursor < 256 { end += 1 }
        let name = String(decoding: bytes[cursor..<end], as: UTF8.self)
        return name.isEmpty ? nil : name
    }

    private struct BudgetSpent: Error {}

    /// The bytes `bytes` inflate to, at most `budget` of them (a corrupt stream gives what came before it).
    static func inflate(_ bytes: UnsafeRawBufferPointer, raw: Bool, budget: inout Int, expected: Int? = nil) -> [UInt8]
    {
        guard let inflater = try? GzipInflater(raw: raw) else { return [] }
        var output: [UInt8] = []
        if let expected { output.reserveCapacity(min(expected, budget)) }
        let limit = budget
        try? inflater.feed(bytes) { chunk in
            let room = limit - output.count
            output.append(contentsOf: chunk.prefix(room))
            if chunk.count > room { throw BudgetSpent() }
        }
        budget -= output.count
        return output
    }

    /// A tar's regular files, read with the layer reader's parser.
    static func tarEntries(_ bytes: UnsafeRawBufferPointer, budget: inout Int) -> [Entry] {
        struct Collector: TarEntryConsumer {
            var budget: Int
            var entries: [Entry] = []
            var current: (path: String, bytes: [UInt8])?

            mutating func beginEntry(_ header: TarEntryHeader) throws {
                guard header.kind == .file else { return }
                current = (header.path, [])
            }

            mutating func entryContent(_ bytes: UnsafeRawBufferPointer) throws {
                guard current != nil else { return }
                let room = max(0, budget)
                current?.bytes.append(contentsOf: bytes.prefix(room))
                budget -= min(room, bytes.count)
            }

            mutating func endEntry() throws {
                if let current { entries.append(Entry(path: Self.clean(current.path), bytes: current.bytes)) }
                current = nil
            }

            static func clean(_ path: String) -> String {
                var path = Substring(path)
                while path.hasPrefix("./") { path = path.dropFirst(2) }
                while path.hasPrefix("/") { path = path.dropFirst() }
                return String(path)
            }
        }
        var parser = TarStreamParser(consumer: Collector(budget: budget))
        try? parser.feed(bytes)
        // An entry cut short by the end of the bytes is still read as far as it goes.
        try? parser.consumer.endEntry()
        budget = max(0, parser.consumer.budget)
        return parser.consumer.entries
    }

    /// A zip's entries by its central directory (stored or deflated; others are passed over).
    static func zipEntries(_ bytes: UnsafeRawBufferPointer, budget: inout Int, unread: inout String?) -> [Entry] {
        func u16(_ at: Int) -> Int { at + 2 <= bytes.count ? Int(bytes[at]) | Int(bytes[at + 1]) << 8 : 0 }
        func u32(_ at: Int) -> Int { at + 4 <= bytes.count ? u16(at) | u16(at + 2) << 16 : 0 }
        // The end of central directory record: its signature within the last 64 KiB + 22 bytes.
        var end = bytes.count - 22
        let lowest = max(0, bytes.count - 65_557)
        while end >= lowest,
            !(bytes[end] == 0x50 && bytes[end + 1] == 0x4b && bytes[end + 2] == 5 && bytes[end + 3] == 6)
        {
            end -= 1
        }
        guard end >= lowest else { return [] }
        let count = u16(end + 10)
        var cursor = u32(end + 16)
        var entries: [Entry] = []
        for _ in 0..<count {
            guard budget > 0, cursor + 46 <= bytes.count, u32(cursor) == 0x0201_4b50 else { break }
            let method = u16(cursor + 10)
            let compressed = u32(cursor + 20)
            let size = u32(cursor + 24)
            let nameLength = u16(cursor + 28)
            let extraLength = u16(cursor + 30)
            let commentLength = u16(cursor + 32)
            let local = u32(cursor + 42)
            let nameEnd = min(bytes.count, cursor + 46 + nameLength)
            let name = String(decoding: bytes[(cursor + 46)..<nameEnd], as: UTF8.self)
            cursor += 46 + nameLength + extraLength + commentLength
            guard !name.hasSuffix("/"), local + 30 <= bytes.count, u32(local) == 0x0403_4b50 else { continue }
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            guard start <= bytes.count else { continue }
            let data = UnsafeRawBufferPointer(rebasing: bytes[start..<min(bytes.count, start + compressed)])
            switch method {
            case 0:
                let kept = Array(data.prefix(budget))
                budget -= kept.count
                entries.append(Entry(path: name, bytes: kept))
            case 8:
                entries.append(Entry(path: name, bytes: inflate(data, raw: true, budget: &budget, expected: size)))
            default:
                unread = "zip-method"
                continue
            }
        }
        return entries
    }
}
