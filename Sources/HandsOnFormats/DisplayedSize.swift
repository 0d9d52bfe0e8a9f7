import Foundation

/// A byte count read from a size as a listing displays it: the best estimate and a closed interval that surely
/// holds the true count, given how the display rounded it (`6.46MB` is about [6.455, 6.465] MB).
public struct ByteSizeEstimate: Sendable, Equatable, Codable {
    public let bytes: Int64
    public let minimum: Int64
    public let maximum: Int64

    public init(bytes: Int64, minimum: Int64, maximum: Int64) {
        self.bytes = bytes
        self.minimum = minimum
        self.maximum = maximum
    }

    public static func exact(_ bytes: Int64) -> ByteSizeEstimate {
        ByteSizeEstimate(bytes: bytes, minimum: bytes, maximum: bytes)
    }

    public var isExact: Bool { minimum == maximum }

    /// Both intervals at once (two size fields for one image), or nil when they do not overlap.
    public func intersected(with other: ByteSizeEstimate) -> ByteSizeEstimate? {
        let low = max(minimum, other.minimum)
        let high = min(maximum, other.maximum)
        guard low <= high else { return nil }
        let narrower = (maximum - minimum) <= (other.maximum - other.minimum) ? self : other
        return ByteSizeEstimate(bytes: min(max(narrower.bytes, low), high), minimum: low, maximum: high)
    }
}

/// Reads sizes as docker (`6.46MB`, `1e+03kB`, `0B`), podman (`4.48 MB`) and old clients (`213.4 MB`) print them.
/// Docker and podman print `%.3g` of the value in the largest unit it reaches (1000 B = 1 kB); JSON's
/// `VirtualSize` uses four significant digits. Units: B, kB/KB, MB, GB, TB, PB, EB (decimal), KiB..PiB (binary).
public enum DisplayedSize {
    /// nil when the text is not a size; `N/A` is not a size either (callers turn it into null).
    public static func parse(_ text: String, significantDigits: Int = 3) -> ByteSizeEstimate? {
        let trimmed = text.trimmedSpaces
        guard let unitStart = trimmed.firstIndex(where: { $0.isLetter && $0 != "e" && $0 != "E" }) else { return nil }
        let numberText = trimmed[..<unitStart].trimmedSpaces
        let unitText = String(trimmed[unitStart...])
        guard let (base, power) = unit(unitText), let number = DecimalNumber(numberText) else { return nil }
        let multiplier = Int128(base).power(power)
        if power == 0 {
            // Whole bytes are printed as they are (HumanSize only rounds from 1 kB on).
            guard number.exponent >= 0 || number.mantissa % Int128(10).power(-number.exponent) == 0 else { return nil }
            let bytes =
                number.exponent >= 0
                ? number.mantissa * Int128(10).power(number.exponent)
                : number.mantissa / Int128(10).power(-number.exponent)
            return Int64(exactly: bytes).map(ByteSizeEstimate.exact)
        }
        if number.mantissa == 0 { return .exact(0) }
        let precision = max(significantDigits, number.significantDigits)
        let leadingExponent = number.significantDigits - 1 + number.exponent  // floor(log10(value))
        let halfStepExponent = leadingExponent - precision  // half a step is 5 x 10^this
        let scale = min(number.exponent, halfStepExponent)
        let center = number.mantissa * Int128(10).power(number.exponent - scale)
        let half = 5 * Int128(10).power(halfStepExponent - scale)
        var low = divide((center - half) * multiplier, byPowerOfTen: -scale, roundingUp: true)
        var high = divide((center + half) * multiplier, byPowerOfTen: -scale, roundingUp: false)
        // Engines format float64(bytes): past 2^49 bytes its rounding error can cross an edge; widen by a bound on it.
        low -= low >> 49
        high += high >> 49
        // The unit itself says the value reached it and stayed below the next one.
        low = max(low, multiplier)
        if power < 6 { high = min(high, multiplier * Int128(base) - 1) }
        let best = divideRounded(center * multiplier, byPowerOfTen: -scale)
        guard low <= high, let minimum = Int64(exactly: low), let maximum = Int64(exactly: high),
            let bytes = Int64(exactly: min(max(best, low), high))
        else { return nil }
        return ByteSizeEstimate(bytes: bytes, minimum: minimum, maximum: maximum)
    }

    /// The value exactly as shown, in bytes (`10MB` is 10,000,000; `1e+03kB` is 1,000,000): what a rule such as
    /// "10MB or less" reads off the listing. Rounded to whole bytes for binary units.
    public static func nominalBytes(_ text: String) -> Int64? {
        guard let (number, base, power) = components(text) else { return nil }
        let scaled = number.mantissa * Int128(base).power(power)
        let bytes =
            number.exponent >= 0
            ? scaled * Int128(10).power(number.exponent)
            : divideRounded(scaled, byPowerOfTen: -number.exponent)
        return Int64(exactly: bytes)
    }

    /// `6.46MB` / `4.48 MB` / `1e+03kB` as the number shown and its unit's base and power.
    static func components(_ text: String) -> (number: DecimalNumber, base: Int, power: Int)? {
        let trimmed = text.trimmedSpaces
        guard let unitStart = trimmed.firstIndex(where: { $0.isLetter && $0 != "e" && $0 != "E" }),
            let (base, power) = unit(String(trimmed[unitStart...])),
            let number = DecimalNumber(trimmed[..<unitStart].trimmedSpaces)
        else { return nil }
        return (number, base, power)
    }

    /// Base and power of a unit name.
    static func unit(_ text: String) -> (Int, Int)? {
        switch text {
        case "B", "b": return (1000, 0)
        case "kB", "KB", "kb", "k", "K": return (1000, 1)
        case "MB", "mB", "M": return (1000, 2)
        case "GB", "G": return (1000, 3)
        case "TB", "T": return (1000, 4)
        case "PB", "P": return (1000, 5)
        case "EB", "E": return (1000, 6)
        case "KiB", "kiB": return (1024, 1)
        case "MiB": return (1024, 2)
        case "GiB": return (1024, 3)
        case "TiB": return (1024, 4)
        case "PiB": return (1024, 5)
        default: return nil
        }
    }

    private static func divide(_ value: Int128, byPowerOfTen exponent: Int, roundingUp: Bool) -> Int128 {
        if exponent <= 0 { return value * Int128(10).power(-exponent) }
        let divisor = Int128(10).power(exponent)
        let quotient = value / divisor
        let remainder = value % divisor
        if remainder == 0 { return quotient }
        return roundingUp ? (value > 0 ? quotient + 1 : quotient) : (value > 0 ? quotient : quotient - 1)
    }

    private static func divideRounded(_ value: Int128, byPowerOfTen exponent: Int) -> Int128 {
        if exponent <= 0 { return value * Int128(10).power(-exponent) }
        let divisor = Int128(10).power(exponent)
        return (value + divisor / 2) / divisor
    }
}

/// A decimal written as text (`6.46`, `1e+03`, `213.4`), held exactly as mantissa x 10^exponent.
struct DecimalNumber {
    let mantissa: Int128
    let exponent: Int
    /// Digits of the mantissa without leading zeros (0 has one).
    let significantDigits: Int

    init?(_ text: String) {
        var digits = ""
        var fractionDigits = 0
        var seenPoint = false
        var exponentPart = 0
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character.isASCII, character.isNumber {
                digits.append(character)
                if seenPoint { fractionDigits += 1 }
            } else if character == "." && !seenPoint {
                seenPoint = true
            } else if character == "e" || character == "E" {
                guard let value = Int(text[text.index(after: index)...]), abs(value) < 30 else { return nil }
                exponentPart = value
                index = text.endIndex
                break
            } else {
                return nil
            }
            index = text.index(after: index)
        }
        let trimmedDigits = digits.drop(while: { $0 == "0" })
        guard !digits.isEmpty, trimmedDigits.count <= 30, let value = Int128(String(digits)) else { return nil }
        mantissa = value
        exponent = exponentPart - fractionDigits
        significantDigits = max(trimmedDigits.count, 1)
    }
}

extension Int128 {
    func power(_ exponent: Int) -> Int128 {
        var result: Int128 = 1
        for _ in 0..<Swift.max(exponent, 0) { result *= self }
        return result
    }
}
