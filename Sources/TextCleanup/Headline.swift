import Foundation

/// A headline the body repeats at its start, found and dropped the same way for feed entries and
/// article pages.
public enum Headline {
    /// `paragraphs` without the leading ones that repeat one of `titles` (compared by
    /// `comparable`: case, punctuation and spacing do not matter).
    public static func dropLeading(from paragraphs: [String], titles: [String]) -> [String] {
        let keys = Set(titles.map(comparable).filter { !$0.isEmpty })
        guard !keys.isEmpty else { return paragraphs }
        var start = 0
        while start < paragraphs.count, keys.contains(comparable(paragraphs[start])) { start += 1 }
        return start == 0 ? paragraphs : Array(paragraphs[start...])
    }

    /// Letters and digits only, lower case: "Breaking: The Title!" and "breaking the title" match.
    public static func comparable(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                let value = scalar.value
                if (0x30...0x39).contains(value) || (0x61...0x7A).contains(value) {
                    out.append(scalar)
                } else if (0x41...0x5A).contains(value), let lower = Unicode.Scalar(value | 0x20) {
                    out.append(lower)
                }
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return String(out)
    }
}
