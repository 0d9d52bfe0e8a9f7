import Foundation
import HandsOnFormats
import HandsOnMessages

/// One share of a class graded apart from the others (`--shard K/N`), the way test runners split a suite across a
/// CI matrix or a Kubernetes Indexed Job: an answer belongs to the share its name hashes to, so adding an answer moves
/// no other, and every shard of a class agrees on the split without talking to the others.
public struct Shard: Sendable, Equatable, Codable, CustomStringConvertible {
    /// From 0; written from 1 (`--shard 1/4` is the first).
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// `K/N` (K from 1 to N), or `N` alone with K from `JOB_COMPLETION_INDEX` (a Kubernetes Indexed Job's pod; from
    /// 0, as Kubernetes counts).
    public static func parse(_ text: String, environment: [String: String]) throws(ShardError) -> Shard {
        let fields = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(fields.count), let count = Int(fields[fields.count - 1]), count >= 1 else {
            throw ShardError(message: Message(.shard.notAShare, ["text": text]))
        }
        let index: Int
        if fields.count == 2 {
            guard let position = Int(fields[0]), (1...count).contains(position) else {
                throw ShardError(message: Message(.shard.notAShare, ["text": text]))
            }
            index = position - 1
        } else {
            guard let given = environment["JOB_COMPLETION_INDEX"], let value = Int(given), (0..<count).contains(value)
            else {
                throw ShardError(
                    message: Message(
                        .shard.noCompletionIndex,
                        ["count": "\(count)", "index": environment["JOB_COMPLETION_INDEX"] ?? ""]))
            }
            index = value
        }
        return Shard(index: index, count: count)
    }

    /// Whether the answer named `name` is this shard's.
    public func holds(_ name: String) -> Bool { Int(Self.hash(name) % UInt64(count)) == index }

    /// FNV-1a over the name's UTF-8 bytes: the same on every machine and every run (Swift's `hashValue` is seeded
    /// per process).
    static func hash(_ name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// `2/4`.
    public var description: String { "\(index + 1)/\(count)" }
}

public struct ShardError: MessageError, Equatable {
    public let message: Message
}

/// What a shard's report folder says of its share (`shard.json`): which shard it is, every answer the class folder
/// held when it looked, and those that were its own. `report merge` finds from these the answers no shard graded.
public struct ShardRecord: Sendable, Codable, Equatable {
    public let shard: Shard
    public let classAnswers: [String]
    public let assigned: [String]

    public static let fileName = "shard.json"

    public init(shard: Shard, classAnswers: [String], assigned: [String]) {
        self.shard = shard
        self.classAnswers = classAnswers
        self.assigned = assigned
    }

    /// The record in `directory`, or nil when it holds none (a batch of a whole class).
    public static func read(in directory: String) throws -> ShardRecord? {
        guard let data = FileManager.default.contents(atPath: "\(directory)/\(fileName)") else { return nil }
        return try JSONOutput.decode(ShardRecord.self, from: data)
    }

    func write(in directory: String) throws {
        try JSONOutput.data(self).write(to: URL(fileURLWithPath: "\(directory)/\(Self.fileName)"), options: .atomic)
    }
}
