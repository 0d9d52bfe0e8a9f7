import Foundation

/// A cache folder held to a number of files: the most recently written ones stay.
enum NewestFiles {
    /// Removes from `directory` all but the `kept` most recently modified of the files `counted` selects, once more
    /// than `kept + slack` of them are there (a folder at its limit is then not listed and sorted on every write).
    /// Also removes what a killed writer left (`CacheFile.isLeftOver`).
    static func keep(_ kept: Int, in directory: String, slack: Int = 0, counted: (String) -> Bool = { _ in true }) {
        let fileManager = FileManager.default
        guard let names = try? fileManager.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasSuffix(CacheFile.unfinished) {
            let modified = try? fileManager.attributesOfItem(atPath: "\(directory)/\(name)")[.modificationDate] as? Date
            if let modified, CacheFile.isLeftOver(name, modified: modified) {
                try? fileManager.removeItem(atPath: "\(directory)/\(name)")
            }
        }
        let files = names.filter { counted($0) && !$0.hasSuffix(CacheFile.unfinished) }
        guard files.count > kept + slack else { return }
        let dated = files.map { name -> (name: String, date: Date) in
            let date =
                (try? fileManager.attributesOfItem(atPath: "\(directory)/\(name)")[.modificationDate] as? Date)
                ?? .distantPast
            return (name, date)
        }
        for file in dated.sorted(by: { $0.date > $1.date }).dropFirst(kept) {
            try? fileManager.removeItem(atPath: "\(directory)/\(file.name)")
        }
    }
}
