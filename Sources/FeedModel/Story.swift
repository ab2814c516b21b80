import DatesAndCharsets
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
        // Split on the newline byte (splitting the characters would segment graphemes).
        var lines = fileContents.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(Substring($0)) }
        if lines.last == "" { lines.removeLast() }
        let headline = lines.first ?? ""
        self.init(headline: headline, paragraphs: Array(lines.dropFirst()))
    }

    private static func singleLine(_ text: String) -> String {
        singleLineUTF8(text)
    }

    /// The reference implementation of `singleLine`, on Unicode properties (internal so that a
    /// test can compare the fast path with it).
    static func singleLineUnicode(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for var scalar in text.unicodeScalars {
            if (0x80...0x9F).contains(scalar.value) {
                // A C1 control stands for its Windows-1252 character (see `ByteDecoding`).
                guard let value = ByteDecoding.windows1252Value(ofC1: scalar.value), let mapped = Unicode.Scalar(value) else { continue }
                scalar = mapped
            }
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
        return result.precomposedStringWithCanonicalMapping
    }

    /// `singleLine` on the UTF-8 bytes: Unicode's White_Space and the controls (Cc) are a short,
    /// fixed list, so no property look-up is needed; multi-byte sequences are copied as they
    /// are. Text whose scalars are all below U+0300 (Latin, with precomposed letters) or in the
    /// punctuation block is already NFC: the normalisation, costly, runs only when another
    /// scalar is seen.
    /// Whether UTF-8 `bytes` hold a C1 control (C2 80 to C2 9F).
    private static func containsC1(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var from = 0
        while from + 1 < bytes.count, let found = memchr(base + from, 0xC2, bytes.count - from - 1) {
            let offset = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            if bytes[offset + 1] <= 0x9F { return true }
            from = offset + 2
        }
        return false
    }

    static func singleLineUTF8(_ text: String) -> String {
        var text = text
        var needsNFC = false
        // The result is never longer than the text (a run of white space becomes one space) but
        // for C1 controls (two bytes, each becoming a character of up to three), so it is written
        // straight into a string of that capacity, larger only when the text has a C1 control
        // (the string keeps its capacity: paragraphs held for a pass must not carry slack).
        let result = text.withUTF8 { bytes -> String in
            String(unsafeUninitializedCapacity: bytes.count + (Self.containsC1(bytes) ? bytes.count / 2 + 1 : 0)) { out -> Int in
                var written = 0
                var pendingSpace = false
                var index = 0
                while index < bytes.count {
                    let byte = bytes[index]
                    if byte > 0x20 && byte < 0x7F {  // visible ASCII, most of any text
                        if pendingSpace && written > 0 {
                            out[written] = 0x20
                            written += 1
                        }
                        pendingSpace = false
                        out[written] = byte
                        written += 1
                        index += 1
                        continue
                    }
                    let (value, length) = UTF8Scalar.decode(bytes, at: index)
                    defer { index += length }
                    if (0x80...0x9F).contains(value) {
                        // A C1 control stands for its Windows-1252 character (`&#146;` is
                        // "’"), else it is dropped.
                        guard let mapped = ByteDecoding.windows1252Value(ofC1: value) else { continue }
                        if pendingSpace && written > 0 {
                            out[written] = 0x20
                            written += 1
                        }
                        pendingSpace = false
                        var encoded: [UInt8] = []
                        ByteDecoding.appendUTF8(mapped, to: &encoded)
                        for byte in encoded {
                            out[written] = byte
                            written += 1
                        }
                        continue
                    }
                    switch value {
                    case 0x09...0x0D, 0x20, 0xA0, 0x1680, 0x2000...0x200B, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
                        pendingSpace = true  // White_Space, plus the zero-width space and the BOM
                        continue
                    case 0..<0x20, 0x7F...0x9F:
                        continue  // other controls
                    default:
                        // U+2010 to U+20CF (dashes, quotes, currency signs) are starters that NFC
                        // leaves as they are and composes with nothing.
                        if value >= 0x300 && !(0x2010...0x20CF).contains(value) { needsNFC = true }
                        if pendingSpace && written > 0 {
                            out[written] = 0x20
                            written += 1
                        }
                        pendingSpace = false
                        for offset in 0..<length { out[written + offset] = bytes[index + offset] }
                        written += length
                    }
                }
                return written
            }
        }
        return needsNFC ? result.precomposedStringWithCanonicalMapping : result
    }

}
