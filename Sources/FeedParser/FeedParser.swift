import DatesAndCharsets
import FeedModel
import Foundation
import XMLSupport

/// Reads RSS and Atom documents into the one `ParsedFeed` model.
///
/// Streaming (SAX) over libxml2: no tree is built. The root element picks the format adapter
/// (`RSSAdapter`, `AtomAdapter`); each adapter maps its format onto `ParsedFeed`.
public enum FeedParser {
    /// Parses a feed document.
    ///
    /// - Parameters:
    ///   - bytes: the document as served (any encoding the document declares).
    ///   - url: the document's URL after redirects, the base for relative links.
    ///   - maxEntries: keep at most this many entries, in document order (the rest are counted
    ///     in `entriesOmitted`); nil keeps every entry.
    public static func parse(_ bytes: [UInt8], url: String? = nil, contentType: String? = nil,
                             maxEntries: Int? = nil) throws(FeedParseError) -> ParsedFeed {
        try bytes.withUnsafeBufferPointer { buffer throws(FeedParseError) in
            try parse(buffer: buffer, url: url, contentType: contentType, maxEntries: maxEntries)
        }
    }

    /// Parses a feed document held in memory the caller owns for the duration of the call (a
    /// mapped file, say): the same as `parse(_:url:contentType:)` without copying the document.
    ///
    /// - Parameter consumed: told how many leading bytes of `bytes` the XML reader has taken in
    ///   (see `XMLStreamParser`). The owner may drop them from memory only if touching them again
    ///   brings them back, as with a file mapping: the parser may read the document again to
    ///   repair it.
    public static func parse(
        buffer bytes: UnsafeBufferPointer<UInt8>, url: String? = nil, contentType: String? = nil,
        maxEntries: Int? = nil, consumed: ((Int) -> Void)? = nil
    ) throws(FeedParseError) -> ParsedFeed {
        guard let first = bytes.firstIndex(where: { !isXMLSpace($0) && $0 != 0xEF && $0 != 0xBB && $0 != 0xBF }) else {
            throw .emptyDocument
        }
        if bytes[first] == UInt8(ascii: "{") {
            return try JSONFeedParser.parse(bytes, url: url, maxEntries: maxEntries)
        }
        var problems: [String] = []
        if let mediaType = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased(),
           !mediaType.isEmpty, !["xml", "rss", "atom", "rdf"].contains(where: { mediaType.contains($0) }) {
            problems.append("served as \(mediaType), not as an XML feed type")
        }
        // libxml2 gives up on anything before the root, so `prepare` skips it (a PHP warning...).
        let charset = ContentType.charset(contentType)
        var prepared = DocumentEncoding.prepare(bytes, httpCharset: charset, verifyUTF8: false)
        var (feed, result, handler) = try read(prepared, input: bytes, url: url, maxEntries: maxEntries, consumed: consumed)
        if prepared.unverifiedUTF8, !result.wellFormed, result.firstIssue?.message.contains("UTF-8") == true {
            // Not valid UTF-8 after all: repair the bytes and read again.
            prepared = DocumentEncoding.prepare(bytes, httpCharset: charset, verifyUTF8: true)
            (feed, result, handler) = try read(prepared, input: bytes, url: url, maxEntries: maxEntries)
        }
        if let problem = prepared.problem { problems.insert(problem, at: 0) }
        if !result.wellFormed, prepared.encoding == "UTF-8",
           let issue = result.firstIssue?.message, issue.contains("EntityRef") || issue.contains("entity") || issue.contains("CharRef") {
            // Bare ampersands ("Fish & Chips") are the most common defect: escape them and read again.
            let original = prepared.withBytes(of: bytes) { prepared.prefix + $0[prepared.skip...] }
            let repaired = escapeBareAmpersands(original)
            if repaired != original, let retry = try? read(.init(converted: repaired, encoding: "UTF-8"), input: bytes, url: url, maxEntries: maxEntries),
               retry.0.entries.count >= feed.entries.count {
                problems.append(issue.contains("CharRef")
                    ? "character references written '&#X' were read as '&#x' (\(result.firstIssue?.description ?? "reference error"))"
                    : "bare '&' characters were read as text (\(result.firstIssue?.description ?? "entity error"))")
                (feed, result, handler) = retry
                if result.wellFormed { result.firstIssue = nil }
            }
        }
        if let issue = result.firstIssue { problems.append(issue.description) } else if !result.wellFormed {
            problems.append("the document is not well-formed XML")
        }
        if handler.truncatedText { problems.append("a text field longer than \(TextCapture.maximumBytes) bytes was cut") }
        if feed.bozo, let reason = feed.bozoReason, !problems.contains(reason) { problems.insert(reason, at: 0) }  // the adapter's own finding
        if !problems.isEmpty {
            feed.bozo = true
            feed.bozoReason = problems.joined(separator: "; ")
        }
        if feed.language == nil { feed.language = handler.rootLanguage }
        if feed.format == .rss091u, declaresNetscapeDoctype(bytes) { feed.format = .rss091n }
        return feed
    }

    /// Whether the document's prolog holds a `<!DOCTYPE` that names Netscape (its RSS 0.91
    /// DTD), as feedparser decides `rss091n`. Only the first 4 KB before the root are looked at.
    static func declaresNetscapeDoctype(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let head = bytes.prefix(4096)
        let doctype = Array("<!doctype".utf8), netscape = Array("netscape".utf8)
        func matches(_ word: [UInt8], at index: Int) -> Bool {
            guard index + word.count <= head.endIndex else { return false }
            for offset in 0..<word.count where head[index + offset] | 0x20 != word[offset] | 0x20 { return false }
            return true
        }
        var index = head.startIndex
        while index < head.endIndex {
            if head[index] == UInt8(ascii: "<"), matches(doctype, at: index) {
                var end = index + doctype.count
                while end < head.endIndex && head[end] != UInt8(ascii: ">") {
                    if matches(netscape, at: end) { return true }
                    end += 1
                }
                return false
            }
            if head[index] == UInt8(ascii: "<"), index + 1 < head.endIndex,
               head[index + 1] != UInt8(ascii: "?"), head[index + 1] != UInt8(ascii: "!") {
                return false  // the root element: no DOCTYPE before it
            }
            index += 1
        }
        return false
    }

    private static func read(
        _ prepared: DocumentEncoding.Prepared, input: UnsafeBufferPointer<UInt8>, url: String?, maxEntries: Int?,
        consumed: ((Int) -> Void)? = nil
    ) throws(FeedParseError) -> (ParsedFeed, XMLStreamResult, FeedDocumentHandler) {
        let handler = FeedDocumentHandler(documentURL: url, entryLimit: maxEntries)
        let result: XMLStreamResult
        do {
            result = try prepared.withBytes(of: input) { bytes throws(XMLStreamError) in
                try XMLStreamParser.parse(buffer: bytes, skipping: prepared.skip, prefix: prepared.prefix, url: url,
                                          encoding: prepared.encoding, handler: handler,
                                          consumed: prepared.converted == nil ? consumed : nil)
            }
        } catch {
            throw .refused(error.description)
        }
        guard let adapter = handler.adapter else {
            if let root = handler.rootName { throw .notAFeed(rootElement: root) }
            throw .notXML(firstIssue: result.firstIssue?.description ?? "no root element")
        }
        return (adapter.finish(), result, handler)
    }

    /// Replaces `&` that does not start an entity or character reference with `&amp;`, and
    /// writes a hex reference spelled `&#X41;` (as HTML allows) as XML does, `&#x41;`.
    static func escapeBareAmpersands(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 64)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            out.append(byte)
            index += 1
            guard byte == UInt8(ascii: "&") else { continue }
            var end = index
            let isCharacterReference = end < bytes.count && bytes[end] == UInt8(ascii: "#")
            if isCharacterReference { end += 1 }
            while end < bytes.count && end - index < 32 && (isNameByte(bytes[end])) { end += 1 }
            if !(end > index && end < bytes.count && bytes[end] == UInt8(ascii: ";")) {
                out.append(contentsOf: Array("amp;".utf8))
            } else if isCharacterReference, index + 1 < end, bytes[index + 1] == UInt8(ascii: "X") {
                // `&#X41;`: HTML's spelling of a hex reference; XML writes the x in lower case.
                out.append(contentsOf: Array("#x".utf8))
                index += 2
            }
        }
        return out
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    private static func isXMLSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
