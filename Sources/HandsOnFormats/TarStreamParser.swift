import Foundation
import HandsOnMessages

/// One entry of a tar stream, with PAX and GNU long names and sizes already applied.
public struct TarEntryHeader: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case file
        case hardLink
        case symbolicLink
        case directory
        case characterDevice
        case blockDevice
        case fifo
        /// A type flag this reader does not interpret (GNU sparse files, vendor types): its content is still skipped right.
        case other(UInt8)
    }

    public var path: String
    public var kind: Kind
    /// Content bytes that follow the header (0 for links, directories and devices).
    public var size: Int64
    /// The target of a hard or symbolic link; empty otherwise.
    public var linkTarget: String
    /// The permission bits, with setuid (0o4000), setgid (0o2000) and sticky (0o1000).
    public var mode: UInt32 = 0o644

    public init(path: String, kind: Kind, size: Int64, linkTarget: String, mode: UInt32 = 0o644) {
        self.path = path
        self.kind = kind
        self.size = size
        self.linkTarget = linkTarget
        self.mode = mode
    }
}

/// What a tar stream's entries are handed to, as they arrive.
package protocol TarEntryConsumer {
    mutating func beginEntry(_ header: TarEntryHeader) throws
    mutating func entryContent(_ bytes: UnsafeRawBufferPointer) throws
    mutating func endEntry() throws
}

/// Why a tar stream could not be read; `offset` is the byte where the bad header starts.
public enum TarStreamError: Equatable, MessageError {
    case badHeader(offset: Int64, reason: String)
    case truncated(offset: Int64)

    public var message: Message {
        switch self {
        case .badHeader(let offset, let reason):
            return Message(.error.tar.badHeader, ["offset": "\(offset)", "reason": "\(reason)"])
        case .truncated(let offset): return Message(.error.tar.truncated, ["offset": "\(offset)"])
        }
    }
}

/// A tar reader fed in chunks of any size (from a pipe, or from a decompressor), holding one 512-byte block and
/// at most one PAX or GNU long-name record: memory stays bounded whatever the archive's size.
/// Reads ustar, GNU (long names, base-256 sizes) and PAX (path, linkpath, size) headers.
package struct TarStreamParser<Consumer: TarEntryConsumer> {
    package var consumer: Consumer
    /// Bytes read so far.
    private(set) var offset: Int64 = 0
    /// Whether the end-of-archive marker (two zero blocks) was seen.
    private(set) var reachedEnd = false

    private enum State {
        case header
        case content(remaining: Int64, padding: Int)
        case extendedRecord(type: UInt8, remaining: Int64, padding: Int)
        case padding(Int)
        case end
    }

    private var state = State.header
    private var block: [UInt8] = []
    private var record: [UInt8] = []
    private var pendingPath: String?
    private var pendingLinkTarget: String?
    private var pendingSize: Int64?
    private var zeroBlocks = 0
    /// A PAX or GNU long-name record larger than this is refused rather than held.
    static var recordLimit: Int { 1 << 20 }

    package init(consumer: Consumer) {
        self.consumer = consumer
        block.reserveCapacity(512)
    }

    package mutating func feed(_ bytes: UnsafeRawBufferPointer) throws {
        var index = 0
        while index < bytes.count {
            let available = bytes.count - index
            switch state {
            case .header:
                let take = min(512 - block.count, available)
                block.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<index + take]))
                index += take
                if block.count == 512 {
                    try readHeader()
                    offset += 512
                    block.removeAll(keepingCapacity: true)
                }
            case .content(let remaining, let padding):
                let take = Int(min(remaining, Int64(available)))
                try consumer.entryContent(UnsafeRawBufferPointer(rebasing: bytes[index..<index + take]))
                index += take
                offset += Int64(take)
                if remaining == Int64(take) {
                    try consumer.endEntry()
                    state = padding > 0 ? .padding(padding) : .header
                } else {
                    state = .content(remaining: remaining - Int64(take), padding: padding)
                }
            case .extendedRecord(let type, let remaining, let padding):
                let take = Int(min(remaining, Int64(available)))
                record.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<index + take]))
                index += take
                offset += Int64(take)
                if remaining == Int64(take) {
                    try applyRecord(type: type)
                    state = padding > 0 ? .padding(padding) : .header
                } else {
                    state = .extendedRecord(type: type, remaining: remaining - Int64(take), padding: padding)
                }
            case .padding(let remaining):
                let take = min(remaining, available)
                index += take
                offset += Int64(take)
                state = remaining == take ? .header : .padding(remaining - take)
            case .end:
                // What follows the end marker (more zero blocks up to the record size) is not read.
                offset += Int64(available)
                return
            }
        }
    }

    /// Checks the stream did not stop inside an entry. A stream without the end marker but cut at an entry boundary
    /// is accepted, as GNU tar does.
    package func finish() throws {
        switch state {
        case .header, .end, .padding:
            if !block.isEmpty && !block.allSatisfy({ $0 == 0 }) { throw TarStreamError.truncated(offset: offset) }
        case .content, .extendedRecord:
            throw TarStreamError.truncated(offset: offset)
        }
    }

    // MARK: - Headers

    private mutating func readHeader() throws {
        if block.allSatisfy({ $0 == 0 }) {
            zeroBlocks += 1
            if zeroBlocks == 2 {
                state = .end
                reachedEnd = true
            }
            return
        }
        zeroBlocks = 0
        guard let stored = Self.number(block[148..<156]), stored == Self.checksum(block) else {
            throw TarStreamError.badHeader(
                offset: offset, reason: say(.error.tar.checksum))
        }
        guard let headerSize = Self.number(block[124..<136]), headerSize >= 0 else {
            throw TarStreamError.badHeader(offset: offset, reason: say(.error.tar.sizeNotNumber))
        }
        let type = block[156]
        let contentSize = pendingSize ?? headerSize
        let padding = Int((512 - contentSize % 512) % 512)
        switch type {
        case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
            guard headerSize <= Self.recordLimit else {
                throw TarStreamError.badHeader(
                    offset: offset, reason: "a \(headerSize)-byte extended header is too long")
            }
            record.removeAll(keepingCapacity: true)
            let recordPadding = Int((512 - headerSize % 512) % 512)
            if headerSize == 0 {
                try applyRecord(type: type)
            } else {
                state = .extendedRecord(type: type, remaining: headerSize, padding: recordPadding)
            }
            return
        default:
            break
        }
        let kind = Self.kind(type)
        let header = TarEntryHeader(
            path: pendingPath ?? Self.headerPath(block), kind: kind,
            size: Self.hasContent(kind) ? contentSize : 0,
            linkTarget: pendingLinkTarget ?? Self.text(block[157..<257]),
            mode: UInt32(truncatingIfNeeded: (Self.number(block[100..<108]) ?? 0o644) & 0o7777))
        pendingPath = nil
        pendingLinkTarget = nil
        pendingSize = nil
        try consumer.beginEntry(header)
        // Header-only types carry no content even when the size field says otherwise (as Go's archive/tar reads them).
        let following = Self.hasContent(kind) ? contentSize : 0
        if following == 0 {
            try consumer.endEntry()
            state = .header
        } else {
            state = .content(remaining: following, padding: padding)
        }
    }

    private mutating func applyRecord(type: UInt8) throws {
        switch type {
        case UInt8(ascii: "L"): pendingPath = Self.text(record[...])
        case UInt8(ascii: "K"): pendingLinkTarget = Self.text(record[...])
        case UInt8(ascii: "x"):
            guard let records = Self.paxRecords(record) else {
                throw TarStreamError.badHeader(offset: offset, reason: say(.error.tar.badPax))
            }
            for (key, value) in records {
                switch key {
                case "path": pendingPath = value
                case "linkpath": pendingLinkTarget = value
                case "size":
                    guard let size = Int64(value), size >= 0 else {
                        throw TarStreamError.badHeader(offset: offset, reason: "PAX size '\(value)' is not a number")
                    }
                    pendingSize = size
                default: break
                }
            }
        default: break  // a global PAX header: nothing in it changes how sizes or paths are read here
        }
        record.removeAll(keepingCapacity: true)
    }

    /// `LENGTH KEY=VALUE\n` records; nil when they are malformed.
    static func paxRecords(_ bytes: [UInt8]) -> [(String, String)]? {
        var pairs: [(String, String)] = []
        var start = 0
        while start < bytes.count {
            guard let space = bytes[start...].firstIndex(of: UInt8(ascii: " ")),
                let length = Int(String(decoding: bytes[start..<space], as: UTF8.self)), length > 0,
                start + length <= bytes.count
            else {
                return nil
            }
            let body = bytes[(space + 1)..<(start + length - 1)]
            if let equals = body.firstIndex(of: UInt8(ascii: "=")) {
                pairs.append(
                    (
                        String(decoding: body[..<equals], as: UTF8.self),
                        String(decoding: body[(equals + 1)...], as: UTF8.self)
                    ))
            }
            start += length
        }
        return pairs
    }

    static func kind(_ type: UInt8) -> TarEntryHeader.Kind {
        switch type {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): return .file
        case UInt8(ascii: "1"): return .hardLink
        case UInt8(ascii: "2"): return .symbolicLink
        case UInt8(ascii: "3"): return .characterDevice
        case UInt8(ascii: "4"): return .blockDevice
        case UInt8(ascii: "5"): return .directory
        case UInt8(ascii: "6"): return .fifo
        default: return .other(type)
        }
    }

    static func hasContent(_ kind: TarEntryHeader.Kind) -> Bool {
        switch kind {
        case .file, .other: return true
        default: return false
        }
    }

    /// ustar's prefix and name joined (only for POSIX ustar: the old GNU format keeps times where the prefix would be).
    static func headerPath(_ block: [UInt8]) -> String {
        let name = text(block[0..<100])
        let isPOSIX = block[257..<263].elementsEqual("ustar\0".utf8)
        let prefix = isPOSIX ? text(block[345..<500]) : ""
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
    }

    /// An octal field (NUL or space terminated), or GNU's base-256 form (high bit of the first byte set).
    static func number(_ field: ArraySlice<UInt8>) -> Int64? {
        guard let first = field.first else { return nil }
        if first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x3f)
            for byte in field.dropFirst() {
                guard value <= (Int64.max >> 8) else { return nil }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        var value: Int64 = 0
        var digits = 0
        for byte in field {
            if byte == 0 || byte == UInt8(ascii: " ") {
                if digits > 0 { break } else { continue }
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7"), value <= (Int64.max >> 3) else { return nil }
            value = value << 3 | Int64(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return value
    }

    /// The header's checksum: every byte summed, the checksum field counted as spaces.
    static func checksum(_ block: [UInt8]) -> Int64 {
        var sum: Int64 = 0
        for (index, byte) in block.enumerated() {
            sum += (148..<156).contains(index) ? 32 : Int64(byte)
        }
        return sum
    }
}
