import CSpawnSupport
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One kind of secret as the audit's rules file (`Audit/Rules/secret-patterns.json`) describes it.
public struct SecretPattern: Sendable, Decodable, Equatable {
    public enum Match: String, Sendable, Decodable {
        /// One of `prefixes`, then `minLength...maxLength` characters of `charset`, not inside a longer word.
        case token
        /// A PEM private key: `-----BEGIN ... PRIVATE KEY-----` and a body.
        case privateKey
        /// `scheme://user:password@host`.
        case urlCredentials
        /// A name holding one of `names`, set to a value long and random enough.
        case assignment
    }

    public let id: String
    /// The kind of secret it covers: shown through the catalogs' `security.kind.<kind>`.
    public let kind: String
    public let match: Match
    let prefixes: [String]?
    let charset: String?
    let minLength: Int?
    let maxLength: Int?
    let names: [String]?
    let exactName: Bool?
    let minEntropy: Double?
}

/// A pattern found: which one, and where in the bytes scanned.
public struct SecretMatch: Sendable, Equatable {
    public let pattern: SecretPattern
    public let offset: Int
}

/// The audit's secret patterns, loaded once from the rules file built into the binary, and the matching itself: every
/// prefix and name is found with `memmem` (the C library's search), and only around a hit is the pattern checked.
public struct SecretPatterns: Sendable {
    public let patterns: [SecretPattern]
    private let compiled: [Compiled]

    /// The built-in rules.
    public static let builtIn: SecretPatterns = {
        struct File: Decodable { let patterns: [SecretPattern] }
        // The file is part of the binary and checked by the tests: it always decodes.
        let file = try! JSONDecoder().decode(File.self, from: Data(PackageResources.secret_patterns_json))
        return SecretPatterns(file.patterns)
    }()

    public init(_ patterns: [SecretPattern]) {
        self.patterns = patterns
        compiled = patterns.map(Compiled.init)
    }

    /// Whether bytes are an ELF program: the magic, a class, a byte order and version 1, and an executable or shared
    /// object type (four bytes put before a text do not make it one).
    static func isExecutable(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 64, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46,
            bytes[4] == 1 || bytes[4] == 2, bytes[5] == 1 || bytes[5] == 2, bytes[6] == 1
        else { return false }
        let type = bytes[5] == 1 ? Int(bytes[16]) | Int(bytes[17]) << 8 : Int(bytes[17]) | Int(bytes[16]) << 8
        return type == 2 || type == 3
    }

    /// Every pattern the bytes hold, each once (its first place). Assignments are looked for in anything but a
    /// program (`text` false, or a whole ELF header), with control bytes read as line ends: text padded with NUL bytes
    /// is still text to whoever reads it. UTF-16 text is read too.
    public func matches(in bytes: UnsafeRawBufferPointer, text: Bool? = nil) -> [SecretMatch] {
        guard bytes.count > 0 else { return [] }
        let isText = text ?? !Self.isExecutable(bytes)
        var found = matchesOnce(in: bytes, text: isText)
        if let narrowed = Self.narrowedUTF16(bytes) {
            let more = narrowed.withUnsafeBytes { matchesOnce(in: $0, text: true) }
            for match in more where !found.contains(where: { $0.pattern == match.pattern }) { found.append(match) }
        }
        return found
    }

    /// The bytes of UTF-16 text (a byte order mark, or a NUL in every other byte of its start) with the high bytes
    /// dropped: what the patterns, all ASCII, are read in.
    static func narrowedUTF16(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        guard bytes.count >= 8 else { return nil }
        let bigEndian: Bool
        if bytes[0] == 0xff && bytes[1] == 0xfe {
            bigEndian = false
        } else if bytes[0] == 0xfe && bytes[1] == 0xff {
            bigEndian = true
        } else if bytes[1] == 0 && bytes[3] == 0 && bytes[5] == 0 && bytes[0] != 0 && bytes[2] != 0 {
            bigEndian = false
        } else if bytes[0] == 0 && bytes[2] == 0 && bytes[4] == 0 && bytes[1] != 0 && bytes[3] != 0 {
            bigEndian = true
        } else {
            return nil
        }
        var narrowed: [UInt8] = []
        narrowed.reserveCapacity(bytes.count / 2)
        var index = bigEndian ? 1 : 0
        while index < bytes.count {
            narrowed.append(bytes[index])
            index += 2
        }
        return narrowed
    }

    private func matchesOnce(in bytes: UnsafeRawBufferPointer, text isText: Bool) -> [SecretMatch] {
        var lowered: [UInt8]?
        var found: [SecretMatch] = []
        for (pattern, rule) in zip(patterns, compiled) {
            let offset: Int?
            switch pattern.match {
            case .token: offset = rule.firstToken(in: bytes)
            case .privateKey: offset = Compiled.firstPrivateKey(in: bytes)
            case .urlCredentials: offset = Compiled.firstURLCredentials(in: bytes)
            case .assignment:
                // A program's string tables run names, tags and values together (`json:"password,omitempty"`).
                guard isText else { continue }
                if lowered == nil {
                    lowered = bytes.map { byte in
                        if byte >= 65 && byte <= 90 { return byte | 0x20 }
                        return byte < 32 && byte != 9 ? 10 : byte
                    }
                }
                offset = lowered!.withUnsafeBytes { rule.firstAssignment(in: $0) }
            }
            if let offset { found.append(SecretMatch(pattern: pattern, offset: offset)) }
        }
        return found
    }

    /// Every pattern a string holds (an Env value, a label, a history line).
    public func matches(in text: String) -> [SecretMatch] {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { matches(in: UnsafeRawBufferPointer($0), text: true) }
    }
}

/// A pattern made ready for matching: its prefixes and names as bytes, its charset as a table.
private struct Compiled: Sendable {
    let prefixes: [[UInt8]]
    let names: [[UInt8]]
    let allowed: [Bool]
    let minLength: Int
    let maxLength: Int
    let exactName: Bool
    let minEntropy: Double

    init(_ pattern: SecretPattern) {
        prefixes = (pattern.prefixes ?? []).map { Array($0.utf8) }
        names = (pattern.names ?? []).map { Array($0.lowercased().utf8) }
        allowed = Self.table(pattern.charset ?? "")
        minLength = pattern.minLength ?? 1
        maxLength = pattern.maxLength ?? Int.max
        exactName = pattern.exactName ?? false
        minEntropy = pattern.minEntropy ?? 0
    }

    /// `A-Za-z0-9_-` as a table of the 256 bytes.
    static func table(_ charset: String) -> [Bool] {
        var table = [Bool](repeating: false, count: 256)
        let bytes = Array(charset.utf8)
        var index = 0
        while index < bytes.count {
            if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "-") {
                for byte in bytes[index]...bytes[index + 2] { table[Int(byte)] = true }
                index += 3
            } else {
                table[Int(bytes[index])] = true
                index += 1
            }
        }
        return table
    }

    /// Calls `body` with every offset where `needle` starts in `bytes`, from where the last call says the search goes
    /// on (past what it read, so a long run is read once), until it says nil.
    static func offsets(of needle: [UInt8], in bytes: UnsafeRawBufferPointer, _ body: (Int) -> Int?) {
        guard let base = bytes.baseAddress, !needle.isEmpty else { return }
        var start = 0
        needle.withUnsafeBytes { needleBytes in
            while start + needle.count <= bytes.count {
                guard
                    let hit = handson_memmem(
                        base + start, UInt(bytes.count - start), needleBytes.baseAddress!, UInt(needle.count))
                else { return }
                let offset = base.distance(to: hit)
                guard let next = body(offset) else { return }
                start = max(offset + 1, next)
            }
        }
    }

    /// How far a name is followed either way from a hit: a longer run of name characters is no name.
    static let nameLimit = 64

    static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 95
    }

    func firstToken(in bytes: UnsafeRawBufferPointer) -> Int? {
        var first: Int?
        for prefix in prefixes {
            Self.offsets(of: prefix, in: bytes) { offset in
                if let first, offset >= first { return nil }
                if offset > 0, Self.isWordByte(prefix[0]), Self.isWordByte(bytes[offset - 1]) { return offset + 1 }
                var end = offset + prefix.count
                while end < bytes.count, allowed[Int(bytes[end])], end - offset - prefix.count <= maxLength { end += 1 }
                let length = end - offset - prefix.count
                guard length >= minLength, length <= maxLength else { return end }
                first = offset
                return nil
            }
        }
        return first
    }

    /// `-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----` followed within 200 bytes by 32 or more base64 characters in a row
    /// (newlines and written `\n` between lines allowed): a header alone, as a program's code names it, is no key.
    static func firstPrivateKey(in bytes: UnsafeRawBufferPointer) -> Int? {
        var found: Int?
        offsets(of: Array("PRIVATE KEY".utf8), in: bytes) { offset in
            // Back over the key's type (`OPENSSH `, `RSA `, `ENCRYPTED `) to `-----BEGIN `.
            let begin = Array("-----BEGIN ".utf8)
            var start = offset
            while start > 0, offset - start < 40,
                bytes[start - 1] == 32 || (bytes[start - 1] >= 65 && bytes[start - 1] <= 90)
            {
                start -= 1
            }
            // The walk went over `BEGIN ` too: the header starts five dashes before it.
            guard start >= 5, offset - start >= 6, bytes[(start - 5)..<start].allSatisfy({ $0 == 45 }),
                zip(begin.dropFirst(5), bytes[start..<(start + 6)]).allSatisfy({ $0 == $1 })
            else { return offset + 1 }
            start -= 5
            var cursor = offset + "PRIVATE KEY".utf8.count
            let block = Array(" BLOCK".utf8)
            if cursor + block.count <= bytes.count,
                zip(block, bytes[cursor..<(cursor + block.count)]).allSatisfy({ $0 == $1 })
            {
                cursor += block.count
            }
            guard cursor + 5 <= bytes.count, bytes[cursor..<(cursor + 5)].allSatisfy({ $0 == UInt8(ascii: "-") }) else {
                return offset + 1
            }
            cursor += 5
            var run = 0
            let limit = min(bytes.count, cursor + 200)
            while cursor < limit {
                let byte = bytes[cursor]
                if isBase64(byte) {
                    run += 1
                    if run >= 32 {
                        found = start
                        return nil
                    }
                } else if byte == 10 || byte == 13 {
                    // a line break inside the body keeps the run
                } else if byte == UInt8(ascii: "\\"), cursor + 1 < limit, bytes[cursor + 1] == UInt8(ascii: "n") {
                    cursor += 1
                } else {
                    run = 0
                }
                cursor += 1
            }
            return offset + 1
        }
        return found
    }

    static func isBase64(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 43
            || byte == 47 || byte == 61
    }

    /// `scheme://user:password@host`, the password not a placeholder (`$VAR`, `${VAR}`, `<password>`, `****`).
    static func firstURLCredentials(in bytes: UnsafeRawBufferPointer) -> Int? {
        var found: Int?
        offsets(of: Array("://".utf8), in: bytes) { offset in
            var start = offset
            while start > 0, isSchemeByte(bytes[start - 1]), offset - start < 20 { start -= 1 }
            guard offset - start >= 2 else { return offset + 1 }
            var cursor = offset + 3
            let userStart = cursor
            while cursor < bytes.count, isUserByte(bytes[cursor]), cursor - userStart < 256 { cursor += 1 }
            guard cursor > userStart, cursor < bytes.count, bytes[cursor] == UInt8(ascii: ":") else { return cursor }
            cursor += 1
            let passwordStart = cursor
            while cursor < bytes.count, isPasswordByte(bytes[cursor]), cursor - passwordStart < 256 { cursor += 1 }
            guard cursor - passwordStart >= 3, cursor + 1 < bytes.count, bytes[cursor] == UInt8(ascii: "@"),
                isUserByte(bytes[cursor + 1])
            else { return cursor }
            let password = Array(bytes[passwordStart..<cursor])
            guard !isPlaceholder(password) else { return cursor }
            found = passwordStart
            return nil
        }
        return found
    }

    static func isSchemeByte(_ byte: UInt8) -> Bool {
        (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90) || (byte >= 48 && byte <= 57) || byte == 43
            || byte == 46 || byte == 45
    }

    static func isUserByte(_ byte: UInt8) -> Bool {
        isWordByte(byte) || byte == 46 || byte == 45 || byte == 126 || byte == 37 || byte == 43
    }

    static func isPasswordByte(_ byte: UInt8) -> Bool {
        byte > 32 && byte < 127 && !"/@:\"'<>`\\ ".utf8.contains(byte)
    }

    /// A value that stands for a secret without being one.
    static func isPlaceholder(_ value: [UInt8]) -> Bool {
        guard let first = value.first else { return true }
        if "$<{%(*[".utf8.contains(first) { return true }
        if Set(value).count == 1 { return true }
        let text = String(decoding: value, as: UTF8.self).lowercased()
        return [
            "password", "passwd", "secret", "token", "changeme", "example", "null", "none", "true", "false",
            "undefined",
            "redacted", "placeholder", "your_password", "yourpassword",
        ].contains(text)
    }

    /// A name holding one of `names` (the bytes are lowercased), `=`, `:`, `:=` or `=>`, and a value.
    func firstAssignment(in bytes: UnsafeRawBufferPointer) -> Int? {
        var first: Int?
        for name in names {
            Self.offsets(of: name, in: bytes) { offset in
                var start = offset
                while start > 0, Self.isNameByte(bytes[start - 1]), offset - start < Self.nameLimit { start -= 1 }
                var cursor = offset + name.count
                while cursor < bytes.count, Self.isNameByte(bytes[cursor]), cursor - offset < Self.nameLimit {
                    cursor += 1
                }
                // A run of name characters too long to be a name is passed over whole.
                if cursor - offset >= Self.nameLimit || offset - start >= Self.nameLimit { return cursor }
                if exactName && (cursor - start != name.count) { return cursor }
                // `…_FILE`, `…_PATH`, `…_DIR` name where a secret is kept, not the secret.
                let fullName = bytes[start..<cursor]
                if ["_file", "_path", "_dir"].contains(where: { fullName.reversed().starts(with: $0.utf8.reversed()) })
                {
                    return cursor
                }
                // `"name": "value"`, `name = value`, `name := "value"`, `name => 'value'`, `NAME=value`.
                if cursor < bytes.count, bytes[cursor] == 34 || bytes[cursor] == 39 { cursor += 1 }
                while cursor < bytes.count, bytes[cursor] == 32 || bytes[cursor] == 9 { cursor += 1 }
                guard cursor < bytes.count, bytes[cursor] == 61 || bytes[cursor] == 58 else { return cursor }
                cursor += 1
                if cursor < bytes.count, bytes[cursor] == 61 || bytes[cursor] == 62 { cursor += 1 }
                while cursor < bytes.count, bytes[cursor] == 32 || bytes[cursor] == 9 { cursor += 1 }
                var quote: UInt8?
                if cursor < bytes.count, bytes[cursor] == 34 || bytes[cursor] == 39 || bytes[cursor] == 96 {
                    quote = bytes[cursor]
                    cursor += 1
                }
                let valueStart = cursor
                while cursor < bytes.count, cursor - valueStart < 512 {
                    let byte = bytes[cursor]
                    if let quote {
                        if byte == quote || byte == 10 { break }
                    } else if byte <= 32 || ",;)}]&".utf8.contains(byte) {
                        break
                    }
                    cursor += 1
                }
                let value = Array(bytes[valueStart..<cursor])
                // Unquoted, a call or a dotted name is code (`token := r.Header.Get(...)`, `secret = cfg.Secret`).
                if quote == nil, value.contains(40) || Self.isDottedName(value) { return cursor }
                // A path names where the secret is kept.
                if let first = value.first, first == 47 || first == 126 || value.starts(with: Array("./".utf8)) {
                    return cursor
                }
                guard value.count >= minLength, !Self.isPlaceholder(value), Self.entropy(value) >= minEntropy else {
                    return cursor
                }
                // The value's place: where a report cuts it short.
                first = valueStart
                return nil
            }
        }
        return first
    }

    /// `config.secret_key`: names joined by dots, no digit-only part.
    static func isDottedName(_ value: [UInt8]) -> Bool {
        let parts = value.split(separator: 46, omittingEmptySubsequences: false)
        return parts.count > 1
            && parts.allSatisfy { part in
                guard let first = part.first, !(first >= 48 && first <= 57) else { return false }
                return part.allSatisfy(isWordByte)
            }
    }

    static func isNameByte(_ byte: UInt8) -> Bool { isWordByte(byte) || byte == 45 || byte == 46 }

    /// Shannon entropy in bits per byte.
    static func entropy(_ value: [UInt8]) -> Double {
        guard !value.isEmpty else { return 0 }
        var counts = [Int](repeating: 0, count: 256)
        for byte in value { counts[Int(byte)] += 1 }
        let total = Double(value.count)
        return counts.reduce(0) { sum, count in
            guard count > 0 else { return sum }
            let share = Double(count) / total
            return sum - share * log2(share)
        }
    }
}
