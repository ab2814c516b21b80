import DatesAndCharsets
import Foundation
import XMLSupport

/// Text helpers shared by the adapters.
enum FeedText {
    /// A title or name as plain text: markup removed, entities decoded, white space collapsed.
    static func plain(_ raw: String?, isHTML: Bool = true) -> String? {
        guard let raw else { return nil }
        let text: String
        if isHTML && containsMarkup(raw) {
            text = HTMLText.inlineText(fromHTML: raw)
        } else {
            text = HTMLText.collapseWhitespace(raw)
        }
        return text.isEmpty ? nil : text
    }

    /// True when `text` has a tag or an entity reference; a bare "&" is just text.
    static func containsMarkup(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "<") { return true }
                guard byte == UInt8(ascii: "&") else { continue }
                var cursor = index
                while cursor < bytes.count, cursor - index < 32 {
                    let next = bytes[cursor]
                    if next == UInt8(ascii: ";") {
                        if cursor > index { return true }
                        break
                    }
                    let isName = (next >= 0x30 && next <= 0x39) || (next >= 0x41 && next <= 0x5A) || (next >= 0x61 && next <= 0x7A) || next == UInt8(ascii: "#")
                    if !isName { break }
                    cursor += 1
                }
            }
            return false
        }
    }

    /// Trimmed text, or nil when nothing is left.
    static func trimmed(_ raw: String?) -> String? {
        guard let raw else { return nil }
        let value = trimmedWhitespace(raw)
        return value.isEmpty ? nil : value
    }

    /// `text` without leading and trailing XML white space (space, tab, CR, LF).
    static func trimmedWhitespace(_ text: String) -> String { XMLWhitespace.trimmed(text) }
}
