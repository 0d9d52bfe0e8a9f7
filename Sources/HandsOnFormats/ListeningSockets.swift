import Foundation

/// A TCP socket listening in a network namespace, as the kernel lists it in `/proc/net/tcp` and `/proc/net/tcp6`.
public struct ListeningSocket: Sendable, Equatable {
    /// The address it is bound to: 4 bytes (IPv4) or 16 (IPv6), in network order.
    public let address: [UInt8]
    public let port: Int

    /// Bound to the loopback (127.0.0.0/8, ::1, or ::ffff:127.x.y.z): only a client in the same namespace reaches it,
    /// never one through a published port.
    public var isLoopback: Bool {
        if address.count == 4 { return address[0] == 127 }
        let mappedPrefix = [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF]
        if Array(address.prefix(12)) == mappedPrefix { return address[12] == 127 }
        return address == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// The address as people write it with its port: `127.0.0.1:9090`, `[::1]:9090`, `[::]:9090`.
    public var text: String {
        if address.count == 4 { return address.map(String.init).joined(separator: ".") + ":\(port)" }
        let groups = stride(from: 0, to: 16, by: 2).map { Int(address[$0]) << 8 | Int(address[$0 + 1]) }
        if groups.allSatisfy({ $0 == 0 }) { return "[::]:\(port)" }
        if groups.dropLast().allSatisfy({ $0 == 0 }) { return "[::\(String(groups[7], radix: 16))]:\(port)" }
        return "[" + groups.map { String($0, radix: 16) }.joined(separator: ":") + "]:\(port)"
    }

    /// The listening sockets of a `/proc/net/tcp` or `tcp6` table (state `0A`); rows of any other state, the header
    /// and lines that are not rows are passed over. Each address word is the kernel's `%08X` of four bytes read in
    /// this machine's byte order, so the bytes are taken back the same way.
    public static func parse(table: String) -> [ListeningSocket] {
        table.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 3, fields[0].hasSuffix(":"), fields[3] == "0A" else { return nil }
            let local = fields[1].split(separator: ":")
            guard local.count == 2, let port = Int(local[1], radix: 16),
                local[0].count == 8 || local[0].count == 32
            else { return nil }
            var bytes: [UInt8] = []
            var rest = local[0][...]
            while !rest.isEmpty {
                guard let word = UInt32(rest.prefix(8), radix: 16) else { return nil }
                withUnsafeBytes(of: word) { bytes.append(contentsOf: $0) }
                rest = rest.dropFirst(8)
            }
            return ListeningSocket(address: bytes, port: port)
        }
    }
}
