/// A list of CPUs as the kernel and `--cpuset-cpus` write it: `0-3,6`.
public enum CPUList {
    /// Whether `text` is a CPU list as the kernel and `--cpuset-cpus` read it: numbers and ranges, comma-separated.
    public static func isValid(_ text: String) -> Bool {
        !text.isEmpty
            && text.split(separator: ",", omittingEmptySubsequences: false).allSatisfy { part in
                let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
                // Digits only (no sign, no space), each a number Int holds, and a range low to high.
                guard (1...2).contains(bounds.count),
                    bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } })
                else { return false }
                let numbers = bounds.compactMap { Int($0) }
                return numbers.count == bounds.count && numbers.first! <= numbers.last!
            }
    }

    /// How many CPUs a CPU list names (`0-1,4` names 3).
    public static func count(_ list: String) -> Int {
        list.split(separator: ",").reduce(0) { count, part in
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            return count + (bounds.count == 2 ? bounds[1] - bounds[0] + 1 : 1)
        }
    }
}
