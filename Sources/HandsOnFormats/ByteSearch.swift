/// Where a run of bytes first occurs among others (a marker in a process's command line, the end of an HTTP head).
package enum ByteSearch {
    /// The offset in `haystack` where `needle` first begins; nil when it does not occur there (or is empty).
    package static func firstOffset(of needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let first = needle.first, needle.count <= haystack.count else { return nil }
        var start = 0
        let last = haystack.count - needle.count
        while start <= last {
            guard let hit = haystack[start...last].firstIndex(of: first) else { return nil }
            if needle.indices.allSatisfy({ haystack[hit + $0] == needle[$0] }) { return hit }
            start = hit + 1
        }
        return nil
    }
}
