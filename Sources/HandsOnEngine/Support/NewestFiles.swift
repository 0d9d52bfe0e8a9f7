import Foundation

/// A cache folder held to a number of files: the most recently written ones stay.
enum NewestFiles {
    /// Removes from `directory` all but the `kept` most recently modified of the files `counted` selects, once more
    /// than `kept + slack` of them are there (a folder at its limit is then not listed and sorted on every write).
    /// Also removes what a killed writer left (`CacheFile.isLeftOver`).
    static func keep(_ kept: Int, in directory: String, slack: Int = 0, counted: (String) -> Bool = { _ in true }) {
        let fileManager = FileManager.default
        guard let names = try? fileManager.contentsOfDirectory(atPath: directory) else { return }
        func modified(_ name: String) -> Date? {
            try? fileManager.attributesOfItem(atPath: "\(directory)/\(name)")[.modificationDate] as? Date
        }
        for name in names where name.hasSuffix(CacheFile.unfinished) {
            if let date = modified(name), CacheFile.isLeftOver(name, modified: date) {
                try? fileManager.removeItem(atPath: "\(directory)/\(name)")
            }
        }
        let files = names.filter { counted($0) && !$0.hasSuffix(CacheFile.unfinished) }
        guard files.count > kept + slack else { return }
        let dated = files.map { name in (name: name, date: modified(name) ?? .distantPast) }
        for file in dated.sorted(by: { $0.date > $1.date }).dropFirst(kept) {
            try? fileManager.removeItem(atPath: "\(directory)/\(file.name)")
        }
    }
}
