import Foundation

/// Resolves the relative URLs in HTML markup (`href`, `src` and the other attributes that hold
/// a URL, as feedparser does) against a base URI, leaving everything else byte for byte.
public enum MarkupLinks {
    /// Attributes whose value is a URL.
    static let urlAttributes: Set<String> = ["href", "src", "cite", "background", "action", "longdesc", "usemap", "codebase",
                                             "data", "classid", "profile", "poster"]

    public static func resolve(_ markup: String, against base: String?) -> String {
        guard let base, markup.contains("="), let baseURL = URL(string: base), baseURL.scheme != nil else { return markup }
        var bytes = Array(markup.utf8)
        var out: [UInt8] = []
        var changed = false
        var copied = 0
        var i = 0
        let count = bytes.count
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0C }
        while i < count {
            guard bytes[i] == 0x3C, i + 1 < count, (bytes[i + 1] | 0x20) >= 0x61 && (bytes[i + 1] | 0x20) <= 0x7A else {
                i += 1
                continue
            }
            // Inside a start tag: read attribute name = value pairs up to `>`.
            i += 1
            while i < count && !isSpace(bytes[i]) && bytes[i] != 0x3E && bytes[i] != 0x2F { i += 1 }
            while i < count && bytes[i] != 0x3E {
                while i < count && (isSpace(bytes[i]) || bytes[i] == 0x2F) { i += 1 }
                let nameStart = i
                while i < count && !isSpace(bytes[i]) && bytes[i] != 0x3D && bytes[i] != 0x3E { i += 1 }
                let name = String(decoding: bytes[nameStart..<i], as: UTF8.self).lowercased()
                while i < count && isSpace(bytes[i]) { i += 1 }
                guard i < count, bytes[i] == 0x3D else { continue }
                i += 1
                while i < count && isSpace(bytes[i]) { i += 1 }
                guard i < count else { break }
                let quote = bytes[i] == 0x22 || bytes[i] == 0x27 ? bytes[i] : 0
                if quote != 0 { i += 1 }
                let valueStart = i
                while i < count && (quote != 0 ? bytes[i] != quote : !isSpace(bytes[i]) && bytes[i] != 0x3E) { i += 1 }
                let valueEnd = i
                if quote != 0 && i < count { i += 1 }
                guard urlAttributes.contains(name) else { continue }
                let value = String(decoding: bytes[valueStart..<valueEnd], as: UTF8.self)
                let trimmed = value.trimmingCharacters(in: .whitespaces)
                // Absolute (has a scheme) or a fragment: left alone.
                if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.range(of: "^[A-Za-z][A-Za-z0-9+.-]*:", options: .regularExpression) != nil { continue }
                guard let resolved = URL(string: trimmed, relativeTo: baseURL)?.absoluteString, resolved != value else { continue }
                out.append(contentsOf: bytes[copied..<valueStart])
                out.append(contentsOf: Array(resolved.utf8))
                copied = valueEnd
                changed = true
            }
        }
        guard changed else { return markup }
        out.append(contentsOf: bytes[copied..<count])
        bytes = out
        return String(decoding: bytes, as: UTF8.self)
    }
}
