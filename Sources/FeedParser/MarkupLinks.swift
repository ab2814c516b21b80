import DatesAndCharsets
import Foundation

/// Resolves the relative URLs in HTML markup (`href`, `src` and the other attributes that hold
/// a URL, as feedparser does) against an http(s) base URI, leaving everything else byte for byte.
public enum MarkupLinks {
    /// Attributes whose value is a URL (lower case ASCII).
    static let urlAttributes: [[UInt8]] = ["href", "src", "cite", "background", "action", "longdesc", "usemap", "codebase",
                                           "data", "classid", "profile", "poster"].map { Array($0.utf8) }

    /// Whether `name` (any case) is one of `urlAttributes`.
    static func isURLAttribute(_ name: ArraySlice<UInt8>) -> Bool {
        urlAttributes.contains { candidate in
            candidate.count == name.count && zip(candidate, name).allSatisfy { $0 == ($1 | 0x20) }
        }
    }

    /// Whether the value starts with a scheme (`http:`, `mailto:`), a fragment, or is empty:
    /// such a value is left alone.
    static func needsNoResolution(_ value: ArraySlice<UInt8>) -> Bool {
        var index = value.startIndex
        while index < value.endIndex && value[index] == 0x20 { index += 1 }
        guard index < value.endIndex else { return true }
        let first = value[index]
        if first == 0x23 { return true }  // #fragment
        guard (first | 0x20) >= 0x61 && (first | 0x20) <= 0x7A else { return false }
        for byte in value[index...] {
            if byte == 0x3A { return true }  // a scheme ends here
            let isSchemeByte = (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A || (byte >= 0x30 && byte <= 0x39) || byte == 0x2B || byte == 0x2E || byte == 0x2D
            if !isSchemeByte { return false }
        }
        return false
    }

    /// Markup as `parse` prints it: without leading and trailing white space (insignificant in
    /// HTML; feedparser strips it too), its relative links resolved against `base`, and
    /// character references to C1 controls (`&#146;`, `&#x92;`) written as the Windows-1252
    /// characters HTML reads them as (`&#x2019;`), so that a reader that is not an HTML parser
    /// gets them right.
    public static func forOutput(_ markup: String, base: String?) -> String {
        windows1252References(in: resolve(XMLWhitespace.trimmed(markup), against: base))
    }

    /// `markup` with each character reference to a C1 control rewritten as a hex reference to
    /// its Windows-1252 character (the five undefined ones are left as they are).
    static func windows1252References(in markup: String) -> String {
        guard markup.utf8.contains(0x26) else { return markup }  // no '&' at all
        let bytes = Array(markup.utf8)
        var out: [UInt8] = []
        var copied = 0
        var index = 0
        while index + 3 < bytes.count {
            guard bytes[index] == 0x26, bytes[index + 1] == 0x23 else {  // "&#"
                index += 1
                continue
            }
            var cursor = index + 2
            let isHex = bytes[cursor] | 0x20 == 0x78
            if isHex { cursor += 1 }
            var value: UInt32 = 0
            let digitsStart = cursor
            while cursor < bytes.count, cursor - digitsStart < 8 {
                let byte = bytes[cursor]
                if byte >= 0x30 && byte <= 0x39 {
                    value = value * (isHex ? 16 : 10) + UInt32(byte - 0x30)
                } else if isHex, (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x66 {
                    value = value * 16 + UInt32((byte | 0x20) - 0x61 + 10)
                } else {
                    break
                }
                cursor += 1
            }
            guard cursor > digitsStart, cursor < bytes.count, bytes[cursor] == 0x3B,
                  let mapped = ByteDecoding.windows1252Value(ofC1: value) else {
                index += 1
                continue
            }
            out.append(contentsOf: bytes[copied..<index])
            out.append(contentsOf: Array(("&#x" + String(mapped, radix: 16, uppercase: false) + ";").utf8))
            index = cursor + 1
            copied = index
        }
        guard copied > 0 else { return markup }
        out.append(contentsOf: bytes[copied...])
        return UTF8String.make(out)
    }

    public static func resolve(_ markup: String, against base: String?) -> String {
        guard let base else { return markup }
        var bytes = Array(markup.utf8)
        guard bytes.contains(0x3D) else { return markup }  // no attribute at all
        var parsedBase: URL??  // parsed only when a relative link is found
        func baseURL() -> URL? {
            if let parsedBase { return parsedBase }
            // Only a web base: a local file's path is no base for the links of its markup.
            let url = URL(string: base).flatMap { ["http", "https"].contains($0.scheme?.lowercased() ?? "") ? $0 : nil }
            parsedBase = .some(url)
            return url
        }
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
                let name = bytes[nameStart..<i]
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
                guard isURLAttribute(name), !needsNoResolution(bytes[valueStart..<valueEnd]) else { continue }
                let value = String(decoding: bytes[valueStart..<valueEnd], as: UTF8.self)
                let trimmed = value.trimmingCharacters(in: .whitespaces)
                guard let baseURL = baseURL(), var resolved = URL(string: trimmed, relativeTo: baseURL)?.absoluteString, resolved != value else { continue }
                if !trimmed.utf8.allSatisfy({ $0 < 0x80 }), !trimmed.contains("%"), !base.contains("%") {
                    resolved = nonASCIIUnescaped(resolved)  // an IRI stays an IRI, as written
                }
                out.append(contentsOf: bytes[copied..<valueStart])
                out.append(contentsOf: Array(resolved.utf8))
                copied = valueEnd
                changed = true
            }
        }
        guard changed else { return markup }
        out.append(contentsOf: bytes[copied..<count])
        bytes = out
        return UTF8String.make(bytes)
    }

    /// `url` with the percent-escapes of non-ASCII bytes (which resolving an IRI with Foundation
    /// adds) turned back into the characters; unchanged when that would not be valid UTF-8.
    static func nonASCIIUnescaped(_ url: String) -> String {
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        let bytes = Array(url.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let high = hex(bytes[i + 1]), let low = hex(bytes[i + 2]),
               high >= 8 {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return UTF8String.ifValid(out) ?? url
    }
}
