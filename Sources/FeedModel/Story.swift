import Foundation

/// The text of one story as it is stored in the corpus: a headline and body paragraphs.
///
/// The stored form is UTF-8 (NFC), LF line ends: line 1 the headline, then one paragraph per
/// line, then a final newline. Paragraphs never contain a line break.
public struct StoryText: Sendable, Equatable {
    public var headline: String
    public var paragraphs: [String]

    /// Builds a story text, folding every line break inside the headline or a paragraph into a
    /// space, dropping empty paragraphs and normalising to NFC.
    public init(headline: String, paragraphs: [String]) {
        self.headline = StoryText.singleLine(headline)
        self.paragraphs = paragraphs.map(StoryText.singleLine).filter { !$0.isEmpty }
    }

    /// The body without the headline, one paragraph per line.
    public var body: String { paragraphs.joined(separator: "\n") }

    /// True when there is neither a headline nor a paragraph.
    public var isEmpty: Bool { headline.isEmpty && paragraphs.isEmpty }

    /// The exact bytes of a corpus file.
    public var fileContents: String {
        var out = headline
        out.append("\n")
        for paragraph in paragraphs {
            out.append(paragraph)
            out.append("\n")
        }
        return out
    }

    /// Parses the contents of a corpus file back into headline and paragraphs.
    public init(fileContents: String) {
        var lines = fileContents.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let headline = lines.first ?? ""
        self.init(headline: headline, paragraphs: Array(lines.dropFirst()))
    }

    private static func singleLine(_ text: String) -> String {
        singleLineASCII(text) ?? singleLineUnicode(text)
    }

    /// The general path of `singleLine` (internal so that a test can compare the two).
    static func singleLineUnicode(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        // Text whose scalars are all below U+0300 (Latin, with precomposed letters) is already
        // NFC: the normalisation, costly, is only needed past that.
        var needsNFC = false
        for scalar in text.unicodeScalars {
            if scalar.value >= 0x300 { needsNFC = true }
            if scalar.properties.isWhitespace || scalar == "\u{FEFF}" || scalar == "\u{200B}" {
                pendingSpace = true
                continue
            }
            // Control characters other than whitespace never belong in a corpus file.
            if scalar.properties.generalCategory == .control { continue }
            if pendingSpace && !result.isEmpty { result.append(" ") }
            pendingSpace = false
            result.unicodeScalars.append(scalar)
        }
        return needsNFC ? result.precomposedStringWithCanonicalMapping : result
    }

    /// The same for pure ASCII text (already NFC) without Unicode property look-ups; nil when
    /// the text is not ASCII.
    static func singleLineASCII(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { bytes -> String? in
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            var pendingSpace = false
            for byte in bytes {
                guard byte < 0x80 else { return nil }
                switch byte {
                case 0x09...0x0D, 0x20:  // ASCII white space (Unicode's White_Space)
                    pendingSpace = true
                    continue
                case 0..<0x20, 0x7F: continue  // other controls
                default:
                    if pendingSpace && !out.isEmpty { out.append(0x20) }
                    pendingSpace = false
                    out.append(byte)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
