import Foundation

/// Resolves relative references against a base URL.
enum URLResolver {
    static func resolve(_ reference: String, against base: String?) -> String? {
        let trimmed = FeedText.trimmedWhitespace(reference)
        guard !trimmed.isEmpty else { return nil }
        if hasScheme(trimmed) { return trimmed }  // Absolute already: no Foundation URL needed.
        if let url = URL(string: trimmed), url.scheme != nil { return trimmed }
        guard let base, let baseURL = URL(string: base),
              let resolved = URL(string: trimmed, relativeTo: baseURL) else { return trimmed }
        return resolved.absoluteString
    }
}

extension URLResolver {
    /// `scheme:` per RFC 3986 (a letter, then letters, digits, "+", "-", "."), then "//".
    static func hasScheme(_ text: String) -> Bool {
        var sawLetter = false
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                sawLetter = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."):
                guard sawLetter else { return false }
            case UInt8(ascii: ":"):
                return sawLetter && iterator.next() == UInt8(ascii: "/") && iterator.next() == UInt8(ascii: "/")
            default:
                return false
            }
        }
        return false
    }
}
