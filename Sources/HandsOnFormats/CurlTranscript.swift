import Foundation

/// What one curl command against a health endpoint showed, read from a pasted terminal transcript.
public struct CurlTranscript: Sendable, Equatable, Encodable {
    /// From a status line (`-i`, `-v`), a `-w '%{http_code}'` code, or a `-f` failure; `000` gives 0.
    public var httpStatus: Int?
    /// From `curl: (N) message`.
    public var curlExitCode: Int?
    public var headers: [String: String]?
    public var body: String?

    /// A short category from the exit code (never from the message, whose wording changes across versions).
    public var error: String? {
        switch curlExitCode {
        case 6: return "could not resolve host"
        case 7: return "connection refused"
        case 22: return "http error"
        case 28: return "timeout"
        case 52: return "empty reply"
        case 56: return "connection reset"
        case .some(let code) where code != 0: return "curl error \(code)"
        default: return (httpStatus ?? 0) >= 400 ? "http error" : nil
        }
    }

    /// true: a 2xx (where known) with a JSON body whose status is Healthy; false: a curl error, a non-2xx status,
    /// or a body that is not healthy; nil: no evidence either way (only a 2xx code from `-w`, say).
    public var healthy: Bool? {
        if let curlExitCode, curlExitCode != 0 { return false }
        if let httpStatus, !(200..<300).contains(httpStatus) { return false }
        guard let body else { return nil }
        return HealthBody.isHealthy(body)
    }

    enum CodingKeys: String, CodingKey { case httpStatus, curlExitCode, error, headers, body, healthy }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(httpStatus, forKey: .httpStatus)
        try container.encode(curlExitCode, forKey: .curlExitCode)
        try container.encode(error, forKey: .error)
        try container.encode(headers, forKey: .headers)
        try container.encode(body, forKey: .body)
        try container.encode(healthy, forKey: .healthy)
    }
}

/// Reads curl's terminal output as people paste it: stdout and stderr mixed, `-i` headers with CRLF,
/// `-v` lines (`* `, `> `, `< `), the progress meter's carriage-return redraws, `curl: (N)` errors and `-w` codes.
public enum CurlTranscriptParser {
    public static func parse(_ text: String) -> CurlTranscript {
        var result = CurlTranscript()
        var statusFromLine: Int?
        var statusFromFailure: Int?
        var headers: [String: String] = [:]
        var readingHeaders = false
        var bodyLines: [String] = []

        for rawLine in TextLines.split(text) {
            let line = cleaned(rawLine)
            guard let line else { continue }
            if readingHeaders {
                if line.trimmedSpaces.isEmpty {
                    readingHeaders = false
                    continue
                }
                if let (name, value) = header(line) {
                    headers[name] = value
                    continue
                }
                readingHeaders = false
            }
            if line.hasPrefix("$ ") { continue }
            if let (code, message) = curlError(line) {
                result.curlExitCode = code
                if code == 22, let status = trailingStatus(message) { statusFromFailure = status }
                continue
            }
            if line.hasPrefix("* ") || line.hasPrefix("*\t") || line == "*" || line.hasPrefix("> ") || line == ">"
                || line.hasPrefix("{ [") || line.hasPrefix("} [")
            {
                continue
            }
            if line.hasPrefix("< ") || line == "<" {
                let content = String(line.dropFirst(line == "<" ? 1 : 2))
                if let status = statusLine(content) {
                    statusFromLine = status
                    headers = [:]
                } else if let (name, value) = header(content) {
                    headers[name] = value
                }
                continue
            }
            if let status = statusLine(line) {
                statusFromLine = status
                headers = [:]
                readingHeaders = true
                continue
            }
            bodyLines.append(line)
        }

        var statusFromWriteOut: Int?
        while let last = bodyLines.last, last.trimmedSpaces.isEmpty { bodyLines.removeLast() }
        if let last = bodyLines.last {
            let trimmed = last.trimmedSpaces
            if trimmed.count == 3, let code = Int(trimmed) {
                statusFromWriteOut = code
                bodyLines.removeLast()
            } else if trimmed.count > 3, let code = Int(trimmed.suffix(3)),
                trimmed.suffix(4).first.map({ !$0.isNumber }) == true,
                isJSON(String(trimmed.dropLast(3)))
            {
                statusFromWriteOut = code
                bodyLines[bodyLines.count - 1] = String(trimmed.dropLast(3))
            }
        }
        let body = bodyLines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        result.body = body.isEmpty ? nil : body
        result.headers = headers.isEmpty ? nil : headers
        result.httpStatus = statusFromLine ?? statusFromWriteOut ?? statusFromFailure
        return result
    }

    /// The line without CR and without progress-meter redraws; nil for a line that was only the meter.
    static func cleaned(_ line: String) -> String? {
        var line = line
        if line.unicodeScalars.last == "\r" { line = String(String.UnicodeScalarView(line.unicodeScalars.dropLast())) }
        if line.contains("% Total") && line.contains("% Received") { return nil }
        if line.contains("Dload") && line.contains("Upload") { return nil }
        guard line.unicodeScalars.contains("\r") || ProgressMeter.startsWithMeter(line) else { return line }
        let kept = line.unicodeScalars.split(separator: "\r", omittingEmptySubsequences: true)
            .map { ProgressMeter.removingLeadingMeter(String(String.UnicodeScalarView($0))) }
            .filter { !$0.trimmedSpaces.isEmpty }
        return kept.isEmpty ? nil : kept.joined()
    }

    static func curlError(_ line: String) -> (Int, String)? {
        guard line.hasPrefix("curl: ("), let close = line.firstIndex(of: ")") else { return nil }
        let digits = line[line.index(line.startIndex, offsetBy: 7)..<close]
        guard let code = Int(digits) else { return nil }
        return (code, String(line[line.index(after: close)...]).trimmedSpaces)
    }

    /// `HTTP/1.1 200 OK`, `HTTP/2 503`.
    static func statusLine(_ line: String) -> Int? {
        guard line.hasPrefix("HTTP/") else { return nil }
        let parts = line.split(separator: " ")
        guard parts.count >= 2, parts[1].count == 3 else { return nil }
        return Int(parts[1])
    }

    static func header(_ line: String) -> (String, String)? {
        guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else { return nil }
        let name = line[..<colon]
        guard !name.contains(" "),
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { return nil }
        return (String(name), line[line.index(after: colon)...].trimmedSpaces)
    }

    /// The 3-digit status at the end of curl's `-f` message ("... returned error: 503").
    static func trailingStatus(_ message: String) -> Int? {
        guard let last = message.split(separator: " ").last, last.count == 3, let code = Int(last), code >= 100 else {
            return nil
        }
        return code
    }

    static func isJSON(_ text: String) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil
    }
}

/// curl's progress meter line: twelve columns of numbers, sizes and `--:--:--` times.
enum ProgressMeter {
    static func startsWithMeter(_ text: String) -> Bool { meterLength(text) != nil }

    static func removingLeadingMeter(_ text: String) -> String {
        guard let length = meterLength(text) else { return text }
        return String(text.dropFirst(length))
    }

    /// Characters the meter takes at the start of `text`, or nil if it does not start with one.
    static func meterLength(_ text: String) -> Int? {
        let characters = Array(text)
        var index = 0
        var fields = 0
        var sawTime = false
        while fields < 12 {
            while index < characters.count && characters[index] == " " { index += 1 }
            let start = index
            while index < characters.count && characters[index] != " "
                && (fields < 11 || characters[index].isNumber
                    || characters[index] == "." || "kMGTP".contains(characters[index]))
            {
                index += 1
            }
            guard index > start else { return nil }
            let field = String(characters[start..<index])
            if field.contains(":") { sawTime = true }
            guard field.allSatisfy({ $0.isNumber || $0 == "." || $0 == ":" || $0 == "-" || "kMGTP".contains($0) })
            else { return nil }
            fields += 1
        }
        return sawTime ? index : nil
    }
}
