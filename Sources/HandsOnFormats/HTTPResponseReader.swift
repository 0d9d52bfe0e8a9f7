import Foundation
import HandsOnMessages

/// One HTTP/1.1 response: its status, its headers (names in lower case) and its body, de-chunked.
package struct HTTPResponse: Sendable, Equatable {
    package let status: Int
    let headers: [String: String]
    package let body: Data
    /// Whether the body was cut at the reader's limit (only when the request allowed it).
    var truncated = false

    package var succeeded: Bool { (200..<300).contains(status) }
}

/// Reads an HTTP/1.1 response from bytes as they arrive: the status line and headers, then a body delimited by
/// `Content-Length`, by chunked transfer coding, or by the end of the connection. Bounded: headers to 64 KB, the body
/// to `bodyLimit` (an error, or, with `truncating`, the first `bodyLimit` bytes and the rest ignored).
package struct HTTPResponseReader {
    package enum Failure: Error, Equatable {
        /// What arrived is not an HTTP response; the message says where.
        case malformed(Message)
        /// The body is longer than the limit.
        case tooLarge(limit: Int)
    }

    let bodyLimit: Int
    let truncating: Bool
    /// Whether the request was HEAD (the response has headers only).
    let headOnly: Bool

    /// The request asked to turn the connection into a raw stream: a `101` (or an older engine's `200`) ends the
    /// response at its headers, and what followed them is the stream's start (`remainder`).
    let upgrading: Bool

    package init(bodyLimit: Int, truncating: Bool = false, headOnly: Bool = false, upgrading: Bool = false) {
        self.bodyLimit = bodyLimit
        self.truncating = truncating
        self.headOnly = headOnly
        self.upgrading = upgrading
    }

    /// Whether the status line and headers have been read (the body may still be coming).
    package var headRead: Bool { framing != nil || response != nil }

    /// Bytes received after an upgraded response's headers.
    package var remainder: Data { response == nil ? Data() : pending }

    private enum Framing {
        case length(Int)
        case chunked
        case untilClose
    }

    private enum ChunkState {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailers
    }

    private var pending = Data()
    private var status: Int?
    private var headers: [String: String] = [:]
    private var framing: Framing?
    private var chunkState = ChunkState.size
    private var body = Data()
    private var truncated = false
    package private(set) var response: HTTPResponse?

    static let headerLimit = 64 * 1024

    /// Takes the next bytes; once the response is complete, `response` is set and later bytes are ignored.
    package mutating func feed(_ bytes: Data) throws(Failure) {
        guard response == nil else { return }
        pending.append(bytes)
        if framing == nil { try readHead() }
        guard let framing else { return }
        switch framing {
        case .length(let length):
            try takeBody(pending, upTo: length - body.count - droppedBytes)
            pending.removeAll()
            if body.count + droppedBytes >= length { complete() }
        case .chunked:
            try readChunks()
        case .untilClose:
            try takeBody(pending, upTo: Int.max)
            pending.removeAll()
        }
    }

    /// The connection has ended: the response as read, or why it is incomplete.
    package mutating func finish() throws(Failure) -> HTTPResponse {
        if let response { return response }
        guard let framing else {
            throw .malformed(Message(pending.isEmpty ? .httpResponse.noResponse : .httpResponse.headersEndEarly))
        }
        switch framing {
        case .untilClose:
            return complete()
        case .length(let length):
            throw .malformed(
                Message(.httpResponse.bodyEndsEarly, ["read": "\(body.count + droppedBytes)", "length": "\(length)"]))
        case .chunked:
            throw .malformed(Message(.httpResponse.chunkedBodyEndsEarly))
        }
    }

    /// Bytes past the limit that a truncating reader skipped.
    private var droppedBytes = 0

    private mutating func takeBody(_ bytes: Data, upTo count: Int) throws(Failure) {
        let taken = bytes.prefix(max(0, count))
        let room = bodyLimit - body.count
        if taken.count <= room {
            body.append(taken)
            return
        }
        guard truncating else { throw .tooLarge(limit: bodyLimit) }
        body.append(taken.prefix(room))
        droppedBytes += taken.count - room
        truncated = true
    }

    @discardableResult
    private mutating func complete() -> HTTPResponse {
        let whole = HTTPResponse(status: status ?? 0, headers: headers, body: body, truncated: truncated)
        response = whole
        return whole
    }

    private mutating func readHead() throws(Failure) {
        while framing == nil {
            guard let end = Self.offset(of: Self.headEnd, in: pending) else {
                if pending.count > Self.headerLimit { throw .malformed(Message(.httpResponse.headersTooLarge)) }
                return
            }
            // However the bytes were split: a head that ends past the limit is refused too.
            if end > Self.headerLimit { throw .malformed(Message(.httpResponse.headersTooLarge)) }
            let lines = pending.withUnsafeBytes { raw in
                Self.lines(UnsafeRawBufferPointer(rebasing: raw[..<end]))
            }
            pending = Data(pending.dropFirst(end + Self.headEnd.count))
            let statusLine = String(decoding: lines[0], as: UTF8.self)
            let fields = statusLine.split(separator: " ", maxSplits: 2)
            guard fields.count >= 2, fields[0].hasPrefix("HTTP/1."), let code = Int(fields[1]),
                (100..<600).contains(code)
            else { throw .malformed(Message(.httpResponse.statusLine, ["line": String(statusLine.prefix(80))])) }
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                    let text = String(decoding: line, as: UTF8.self)
                    throw .malformed(Message(.httpResponse.headerWithoutColon, ["line": String(text.prefix(80))]))
                }
                let name = String(decoding: line[..<colon].map(Self.lowercased), as: UTF8.self)
                headers[name] = String(decoding: Self.trimmed(line[(colon + 1)...]), as: UTF8.self)
            }
            if upgrading && (code == 101 || code == 200) {
                status = code
                self.headers = headers
                complete()
                return
            }
            // An interim response (100 Continue) is followed by the real one.
            if (100..<200).contains(code) { continue }
            status = code
            self.headers = headers
            if headOnly || code == 204 || code == 304 {
                framing = .length(0)
            } else if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
                framing = .chunked
            } else if let text = headers["content-length"] {
                guard let length = Int(text), length >= 0 else {
                    throw .malformed(Message(.httpResponse.contentLength, ["value": String(text.prefix(40))]))
                }
                if length > bodyLimit && !truncating { throw .tooLarge(limit: bodyLimit) }
                framing = .length(length)
            } else {
                framing = .untilClose
            }
        }
        if case .length(0) = framing { complete() }
    }

    private static let headEnd: [UInt8] = Array("\r\n\r\n".utf8)
    private static let lineEnd: [UInt8] = Array("\r\n".utf8)

    /// Where `marker` first begins in `data`, counted from its start; nil when it is not there (yet).
    private static func offset(of marker: [UInt8], in data: Data) -> Int? {
        data.withUnsafeBytes { ByteSearch.firstOffset(of: marker, in: $0.bindMemory(to: UInt8.self)) }
    }

    /// The head's CRLF-separated lines, as bytes.
    private static func lines(_ head: UnsafeRawBufferPointer) -> [ArraySlice<UInt8>] {
        let bytes = Array(head)
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 0x0D && bytes[index + 1] == 0x0A {
                lines.append(bytes[start..<index])
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        lines.append(bytes[start...])
        return lines
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }

    /// Without the spaces and tabs around it.
    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) })
        else { return [] }
        return bytes[first...last]
    }

    private mutating func readChunks() throws(Failure) {
        while response == nil {
            switch chunkState {
            case .size:
                guard let line = try takeLine() else { return }
                let hex = line.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces)
                // Hex digits only: `Int(_:radix:)` would also take a sign, and a negative size is no size.
                guard !hex.isEmpty, hex.count <= 15, hex.allSatisfy(\.isHexDigit), let size = Int(hex, radix: 16)
                else {
                    throw .malformed(Message(.httpResponse.chunkSizeLine, ["line": String(line.prefix(40))]))
                }
                chunkState = size == 0 ? .trailers : .data(remaining: size)
            case .data(let remaining):
                guard !pending.isEmpty else { return }
                let part = pending.prefix(remaining)
                try takeBody(part, upTo: part.count)
                pending = Data(pending.dropFirst(part.count))
                chunkState = part.count == remaining ? .dataEnd : .data(remaining: remaining - part.count)
            case .dataEnd:
                guard let line = try takeLine() else { return }
                guard line.isEmpty else {
                    throw .malformed(Message(.httpResponse.afterChunk, ["line": String(line.prefix(40))]))
                }
                chunkState = .size
            case .trailers:
                guard let line = try takeLine() else { return }
                if line.isEmpty { complete() }
            }
        }
    }

    /// The next CRLF-ended line of `pending`, taken off it; nil until one has arrived in full.
    private mutating func takeLine() throws(Failure) -> String? {
        guard let end = Self.offset(of: Self.lineEnd, in: pending) else {
            if pending.count > 8192 { throw .malformed(Message(.httpResponse.chunkLineTooLong)) }
            return nil
        }
        let line = String(decoding: pending.prefix(end), as: UTF8.self)
        pending = Data(pending.dropFirst(end + Self.lineEnd.count))
        return line
    }
}
