import Foundation

/// The user an image's processes run as, resolved as the runtime (runc, crun) resolves `Config.User`: the part before
/// `:` read as a number if it is one (`0000` and `+0` are uid 0), else looked up by name in the image's own
/// `/etc/passwd`; empty is root.
public struct ImageUser: Sendable, Equatable, Codable {
    /// `Config.User` as the image has it (`""`, `nonroot`, `65532:65532`, `0000`).
    public let configured: String
    /// The uid the kernel runs; nil for a name the image's `/etc/passwd` lacks (the runtime refuses to start it).
    public let uid: Int?
    /// How the uid was found.
    public let source: Source

    public enum Source: String, Sendable, Codable {
        /// No user set: root.
        case unset
        /// A name found in the image's `/etc/passwd`.
        case passwd
        /// A number.
        case number
        /// A name the image's `/etc/passwd` lacks.
        case unknownName
    }

    public var isRoot: Bool { uid == 0 }

    /// Resolves `configured` against the image's `/etc/passwd` text (nil when it has none).
    public init(configured: String, passwd: String?) {
        self.configured = configured
        let name =
            configured.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
            ?? ""
        if name.isEmpty {
            uid = 0
            source = .unset
            return
        }
        // A number is a uid, whatever passwd says (runc and containerd treat it so).
        if let number = Self.number(name) {
            uid = number
            source = .number
            return
        }
        // A name is looked up in the image's passwd: `USER nonroot` where nonroot is uid 0 is root.
        for line in (passwd ?? "").split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 3, fields[0] == name, let number = Self.number(String(fields[2])) {
                uid = number
                source = .passwd
                return
            }
        }
        uid = nil
        source = .unknownName
    }

    /// A uid written as Go's `strconv.Atoi` reads it (the runtime's parser): an optional sign, then decimal digits
    /// with any leading zeros.
    static func number(_ text: String) -> Int? {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let trimmed = digits.drop { $0 == "0" }
        guard trimmed.count <= 18, let value = Int(trimmed.isEmpty ? "0" : trimmed) else { return nil }
        return negative ? -value : value
    }
}
