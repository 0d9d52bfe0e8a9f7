import Foundation
import HandsOnMessages

/// A read-only reader of a bbolt database file (the key-value store containerd keeps its metadata in): nested buckets
/// of sorted keys in a B+tree of fixed-size pages. It reads the file as it stands, through the newer of its two meta
/// pages whose checksum holds, and only looks keys up, reading just the pages on the way (`pread`; containerd's
/// metadata file is tens of megabytes); every offset is checked, so a damaged or half-written file is an error, never
/// a crash.
///
/// Layout (bbolt's own): a page is a 16-byte header (id, flags, element count, overflow) and its elements; a branch
/// element is (key position, key size, child page), a leaf element (flags, key position, key size, value size), the
/// key and value stored at the position counted from the element. A leaf value flagged as a bucket holds the bucket's
/// root page and sequence; root 0 means the bucket's one page follows inline.
package final class BoltFile: Sendable {
    package struct Malformed: MessageError {
        let path: String
        let reason: String
        package var message: Message { Message(.error.bolt.malformed, ["path": path, "reason": reason]) }
    }

    /// Where a bucket's entries start: a page of the file, or a page held inline in its parent's value.
    package enum Bucket: Sendable {
        case page(UInt64)
        case inline([UInt8])
    }

    /// A value found by `lookUp`: a nested bucket or plain bytes.
    package enum Value: Sendable {
        case bucket(Bucket)
        case bytes([UInt8])
    }

    let path: String
    private let descriptor: Int32
    private let pageSize: Int
    /// The file's size when opened: no page is read past it.
    private let fileSize: Int
    /// The database's top-level bucket.
    let root: Bucket

    private static let magic: UInt32 = 0xED0C_DAED
    private static let branchPage: UInt16 = 0x01
    private static let leafPage: UInt16 = 0x02
    private static let bucketLeaf: UInt32 = 0x01
    private static let headerSize = 16
    private static let elementSize = 16

    package init(path: String) throws(Malformed) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Malformed(path: path, reason: String(cString: strerror(errno))) }
        var status = stat()
        fileSize = fstat(descriptor, &status) == 0 ? Int(status.st_size) : 0
        // The page size is in the first meta page; the second meta page starts one page in.
        let first = Self.read(descriptor, at: 0, count: 4096)
        let firstSize = Int(Self.uint32(first, Self.headerSize + 8) ?? 0)
        var best: (txid: UInt64, root: UInt64, pageSize: Int)?
        for (offset, size) in [(0, firstSize), (firstSize, firstSize), (4096, 4096)] where size >= 512 {
            let page = Self.read(descriptor, at: offset, count: 4096)
            if let meta = Self.meta(page), best == nil || meta.txid > best!.txid { best = meta }
        }
        guard let best else {
            close(descriptor)
            throw Malformed(path: path, reason: "neither meta page is valid")
        }
        pageSize = best.pageSize
        root = .page(best.root)
    }

    deinit { close(descriptor) }

    /// Up to `count` bytes at `offset` (fewer at the end of the file).
    private static func read(_ descriptor: Int32, at offset: Int, count: Int) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = buffer.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress! + filled, count - filled, off_t(offset + filled))
            }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { break }
            filled += got
        }
        return Array(buffer.prefix(filled))
    }

    /// Page `id` with its overflow pages.
    private func readPage(_ id: UInt64) throws(Malformed) -> [UInt8] {
        guard id < UInt64(Int.max / pageSize / 2) else { throw malformed("page \(id) is past any file") }
        let offset = Int(id) * pageSize
        let head = Self.read(descriptor, at: offset, count: pageSize)
        guard let overflow = Self.uint32(head, 12), head.count == pageSize else {
            throw malformed("page \(id) is past the end of the file")
        }
        guard overflow > 0 else { return head }
        guard Int(overflow) < (fileSize - offset) / pageSize else {
            throw malformed("page \(id) claims \(overflow) overflow pages, past the end of the file")
        }
        let whole = Self.read(descriptor, at: offset, count: pageSize * (Int(overflow) + 1))
        guard whole.count == pageSize * (Int(overflow) + 1) else { throw malformed("page \(id) is cut short") }
        return whole
    }

    /// A meta page, when its magic number, version and checksum (FNV-1a, 64 bits) hold.
    private static func meta(_ page: [UInt8]) -> (txid: UInt64, root: UInt64, pageSize: Int)? {
        let start = headerSize
        guard start + 64 <= page.count, uint32(page, start) == magic, uint32(page, start + 4) == 2,
            let pageSize = uint32(page, start + 8), (512...(1 << 20)).contains(pageSize),
            let root = uint64(page, start + 16), let txid = uint64(page, start + 48),
            let checksum = uint64(page, start + 56)
        else { return nil }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in page[start..<(start + 56)] {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return hash == checksum ? (txid, root, Int(pageSize)) : nil
    }

    /// The value at `path` (bucket names, then a key), from the top-level bucket; nil where a name is missing.
    package func lookUp(_ path: [String]) throws(Malformed) -> Value? {
        var bucket = root
        for (index, name) in path.enumerated() {
            guard let found = try find(Array(name.utf8), in: bucket) else { return nil }
            if index == path.count - 1 { return found }
            guard case .bucket(let inner) = found else { return nil }
            bucket = inner
        }
        return .bucket(bucket)
    }

    /// The value of `key` in `bucket`.
    private func find(_ key: [UInt8], in bucket: Bucket) throws(Malformed) -> Value? {
        switch bucket {
        case .page(let id): return try find(key, onPage: readPage(id), depth: 0)
        case .inline(let page): return try find(key, onPage: page, depth: 0)
        }
    }

    private func find(_ key: [UInt8], onPage page: [UInt8], depth: Int) throws(Malformed) -> Value? {
        guard depth < 64 else { throw malformed("the tree is deeper than 64 pages (a loop?)") }
        guard let flags = Self.uint16(page, 8), let count = Self.uint16(page, 10) else {
            throw malformed("a page is shorter than its header")
        }
        let elements = Self.headerSize
        guard elements + Int(count) * Self.elementSize <= page.count else {
            throw malformed("a page claims \(count) elements, more than it holds")
        }
        switch flags {
        case Self.branchPage:
            // The last child whose first key is not after the key sought.
            var child: UInt64?
            for index in 0..<Int(count) {
                let element = elements + index * Self.elementSize
                guard let position = Self.uint32(page, element), let size = Self.uint32(page, element + 4),
                    let id = Self.uint64(page, element + 8),
                    let first = Self.slice(page, element + Int(position), Int(size))
                else { throw malformed("branch element \(index) at byte \(element) is past the end") }
                if child != nil && key.lexicographicallyPrecedes(first) { break }
                child = id
            }
            guard let child else { return nil }
            return try find(key, onPage: readPage(child), depth: depth + 1)
        case Self.leafPage:
            for index in 0..<Int(count) {
                let element = elements + index * Self.elementSize
                guard let elementFlags = Self.uint32(page, element), let position = Self.uint32(page, element + 4),
                    let keySize = Self.uint32(page, element + 8), let valueSize = Self.uint32(page, element + 12),
                    let found = Self.slice(page, element + Int(position), Int(keySize)),
                    let value = Self.slice(page, element + Int(position) + Int(keySize), Int(valueSize))
                else { throw malformed("leaf element \(index) at byte \(element) is past the end") }
                guard found == key else { continue }
                guard elementFlags & Self.bucketLeaf != 0 else { return .bytes(value) }
                guard let rootPage = Self.uint64(value, 0) else { throw malformed("bucket value of \(index) is short") }
                return .bucket(rootPage == 0 ? .inline(Array(value.dropFirst(16))) : .page(rootPage))
            }
            return nil
        default:
            throw malformed("a page has flags \(flags), neither branch nor leaf")
        }
    }

    private func malformed(_ reason: String) -> Malformed { Malformed(path: path, reason: reason) }

    private static func slice(_ bytes: [UInt8], _ start: Int, _ count: Int) -> [UInt8]? {
        guard start >= 0, count >= 0, start <= bytes.count - count else { return nil }
        return Array(bytes[start..<(start + count)])
    }

    private static func uint16(_ bytes: [UInt8], _ at: Int) -> UInt16? { number(bytes, at, 2).map(UInt16.init) }
    private static func uint32(_ bytes: [UInt8], _ at: Int) -> UInt32? { number(bytes, at, 4).map(UInt32.init) }
    private static func uint64(_ bytes: [UInt8], _ at: Int) -> UInt64? { number(bytes, at, 8) }

    /// A little-endian number of `size` bytes at `at`, nil past the end.
    private static func number(_ bytes: [UInt8], _ at: Int, _ size: Int) -> UInt64? {
        guard at >= 0, at <= bytes.count - size else { return nil }
        var value: UInt64 = 0
        for index in (0..<size).reversed() { value = value << 8 | UInt64(bytes[at + index]) }
        return value
    }

    /// Go's `binary.Uvarint`: seven bits a byte, lowest first; nil when it does not end within ten bytes.
    package static func uvarint(_ bytes: [UInt8]) -> UInt64? {
        var value: UInt64 = 0
        for (index, byte) in bytes.prefix(10).enumerated() {
            value |= UInt64(byte & 0x7f) << (7 * UInt64(index))
            if byte < 0x80 { return value }
        }
        return nil
    }
}
