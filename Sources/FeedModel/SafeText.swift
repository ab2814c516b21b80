import Foundation

/// Text from feeds and servers made safe to print in a log line or a terminal.
public enum LogText {
    /// `text` with every control character written as an escape (`\n`, `\r`, `\t`, `\u{1B}`),
    /// so a feed-supplied value can never start a forged log line or drive a terminal.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where isControl(scalar): out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// C0, DEL, C1, the line and paragraph separators, and the bidirectional overrides.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}

/// URLs without the credentials some feed URLs carry (`https://user:secret@host/feed`): they
/// stay in the config and nowhere else (manifest, state display, logs, status).
public enum URLCredentials {
    /// `url` with any `user:password@` removed; other text is returned unchanged.
    public static func stripped(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let afterScheme = url[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return url }
        return String(url[..<schemeEnd.upperBound]) + String(authority[authority.index(after: at)...]) + String(afterScheme[authorityEnd...])
    }

    /// `text` (a message, a log line) with the credentials of every URL in it removed.
    public static func strippedInText(_ text: String) -> String {
        guard text.contains("@"), text.contains("://") else { return text }
        var out = ""
        var rest = Substring(text)
        while let schemeEnd = rest.range(of: "://") {
            out += rest[..<schemeEnd.upperBound]
            rest = rest[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex(where: { "/?# \t\r\n\"'<>()[]{}".contains($0) }) ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@") {
                rest = rest[rest.index(after: at)...]
            }
        }
        return out + rest
    }
}

extension String {
    /// The text without leading and trailing white space and newlines (Unicode's, as
    /// `trimmingCharacters(in: .whitespacesAndNewlines)`), returned as is without a trip through
    /// Foundation when both ends are visible ASCII (nearly every id, tag and header of a pass).
    public var trimmingWhitespace: String {
        guard let first = utf8.first, let last = utf8.last else { return self }
        if first > 0x20 && first < 0x7F && last > 0x20 && last < 0x7F { return self }
        return trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
