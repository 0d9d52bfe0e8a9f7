import Foundation

/// Finds the Debian mirror apt on this machine is configured with, for debootstrap.
/// `HANDSON_DEBIAN_MIRROR` overrides it; nothing is hard-coded.
public enum DebianMirror {
    public static func detect(environment: [String: String], aptDirectory: String = "/etc/apt") -> String? {
        if let mirror = environment["HANDSON_DEBIAN_MIRROR"], !mirror.isEmpty { return mirror }
        var files = ["\(aptDirectory)/sources.list"]
        let partsDirectory = "\(aptDirectory)/sources.list.d"
        if let names = try? FileManager.default.contentsOfDirectory(atPath: partsDirectory) {
            files += names.sorted().map { "\(partsDirectory)/\($0)" }
        }
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            let found = file.hasSuffix(".sources") ? fromDeb822(text) : fromOneLineFormat(text)
            if let found { return found }
        }
        return nil
    }

    /// `deb [options] URI SUITE COMPONENTS` lines.
    static func fromOneLineFormat(_ text: String) -> String? {
        for line in text.split(separator: "\n") {
            var words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard words.first == "deb" else { continue }
            words.removeFirst()
            if words.first?.hasPrefix("[") == true {
                while let word = words.first, !word.hasSuffix("]") { words.removeFirst() }
                if !words.isEmpty { words.removeFirst() }
            }
            guard words.count >= 2, isMainDebianSuite(words[1]) else { continue }
            return words[0]
        }
        return nil
    }

    /// Stanzas of `Types: deb` / `URIs:` / `Suites:` (deb822).
    static func fromDeb822(_ text: String) -> String? {
        for stanza in text.components(separatedBy: "\n\n") {
            var fields: [String: String] = [:]
            for line in stanza.split(separator: "\n") where !line.hasPrefix("#") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                    in: .whitespaces)
            }
            guard fields["types"]?.split(separator: " ").contains("deb") == true,
                let uri = fields["uris"]?.split(separator: " ").first,
                fields["suites"]?.split(separator: " ").contains(where: { isMainDebianSuite(String($0)) }) == true
            else { continue }
            return String(uri)
        }
        return nil
    }

    /// A Debian release suite (not security, updates or backports, which debootstrap cannot use).
    static func isMainDebianSuite(_ suite: String) -> Bool {
        ["bookworm", "trixie", "bullseye", "stable", "testing", "sid", "unstable"].contains(suite)
    }
}
