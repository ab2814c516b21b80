import FeedModel
import Foundation
import XMLSupport

/// Why a document could not be read as a feed at all. A document that is merely malformed is
/// not an error: it is parsed in recovery mode and flagged `bozo`.
public enum FeedParseError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyDocument
    /// The root element is not one of a feed format's (an HTML page, a sitemap, ...).
    case notAFeed(rootElement: String)
    /// Not XML, and not JSON Feed either.
    case notXML(firstIssue: String)
    /// Starts like JSON (a JSON Feed) but is not valid JSON.
    case invalidJSON(reason: String)
    /// The XML reader refused the document (entity declarations and the like).
    case refused(String)

    public var description: String {
        switch self {
        case .emptyDocument:
            return "the document is empty"
        case let .notAFeed(root):
            let hint = root.lowercased() == "html"
                ? " (this is a web page: find the page's RSS or Atom link and configure that URL instead)" : ""
            return "the root element is <\(root)>, not a feed (rss, rdf:RDF or feed)\(hint)"
        case let .notXML(issue):
            return "the document is not XML: \(issue)"
        case let .invalidJSON(reason):
            return "the document starts with '{' (a JSON Feed) but is not valid JSON: \(reason)"
        case let .refused(reason):
            return "the document was refused: \(reason)"
        }
    }
}

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
        let charset = DocumentEncoding.charset(fromContentType: contentType)
        var prepared = DocumentEncoding.prepare(bytes, httpCharset: charset, verifyUTF8: false)
        var (feed, result, handler) = try read(prepared, input: bytes, url: url, maxEntries: maxEntries, consumed: consumed)
        if prepared.unverifiedUTF8, !result.wellFormed, result.firstIssue?.message.contains("UTF-8") == true {
            // Not valid UTF-8 after all: repair the bytes and read again.
            prepared = DocumentEncoding.prepare(bytes, httpCharset: charset, verifyUTF8: true)
            (feed, result, handler) = try read(prepared, input: bytes, url: url, maxEntries: maxEntries)
        }
        if let problem = prepared.problem { problems.insert(problem, at: 0) }
        if !result.wellFormed, prepared.encoding == "UTF-8",
           let issue = result.firstIssue?.message, issue.contains("EntityRef") || issue.contains("entity") {
            // Bare ampersands ("Fish & Chips") are the most common defect: escape them and read again.
            let original = prepared.withBytes(of: bytes) { prepared.prefix + $0[prepared.skip...] }
            let repaired = escapeBareAmpersands(original)
            if repaired != original, let retry = try? read(.init(converted: repaired, encoding: "UTF-8"), input: bytes, url: url, maxEntries: maxEntries),
               retry.0.entries.count >= feed.entries.count {
                problems.append("bare '&' characters were read as text (\(result.firstIssue?.description ?? "entity error"))")
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
        return feed
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

    /// Replaces `&` that does not start an entity or character reference with `&amp;`.
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
            if end < bytes.count && bytes[end] == UInt8(ascii: "#") { end += 1 }
            while end < bytes.count && end - index < 32 && (isNameByte(bytes[end])) { end += 1 }
            if !(end > index && end < bytes.count && bytes[end] == UInt8(ascii: ";")) {
                out.append(contentsOf: Array("amp;".utf8))
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

/// A format adapter: receives the element events of one feed format and builds `ParsedFeed`.
protocol FeedFormatAdapter: AnyObject {
    /// Called for every element outside a captured text; returns how to capture the element's
    /// content, or nil when the adapter needs no text from it.
    func start(_ element: Element, attributes: [XMLAttribute], base: String?) -> CaptureMode?
    /// Called for every element end; `text` is the captured content when `start` asked for it.
    func end(_ element: Element, text: String?, base: String?)
    func finish() -> ParsedFeed
    /// Keep at most `limit` entries (count the rest).
    func limitEntries(to limit: Int?)
}

/// How the content of an element is captured.
enum CaptureMode {
    /// Character data verbatim (plain text or escaped HTML); stray child elements are kept as
    /// markup (RSS descriptions with unescaped HTML).
    case text
    /// Inline XHTML: child elements are serialised and text is escaped; the wrapping `div` of
    /// Atom's `type="xhtml"` is dropped.
    case xhtml
}

/// The namespaces feeds use, resolved from URI or, when a document forgot to declare it, from
/// the conventional prefix.
enum Namespace: Equatable {
    case none, rss090, rss10, rdf, atom10, atom03, content, dc, media, sy, xml, itunes, xhtml, other

    init(uri raw: String?, prefix: String?) {
        // A URI written with spaces around it is still that namespace.
        if let uri = raw.map(\.trimmingWhitespace) {
            switch uri {
            case "http://my.netscape.com/rdf/simple/0.9/": self = .rss090
            case "http://purl.org/rss/1.0/": self = .rss10
            case "http://www.w3.org/1999/02/22-rdf-syntax-ns#": self = .rdf
            case "http://www.w3.org/2005/Atom": self = .atom10
            case "http://purl.org/atom/ns#": self = .atom03
            // RSS 2.0 and 0.91 with a default namespace some publishers declare: core RSS.
            case "http://backend.userland.com/rss", "http://backend.userland.com/rss2",
                 "http://blogs.law.harvard.edu/tech/rss", "http://purl.org/rss/1.0/modules/rss091#":
                self = .none
            // Pre-release names of Atom 0.3 ("Echo", "Pie") that early feeds still carry.
            case "http://example.com/necho", "http://purl.org/echo/", "uri/of/echo/namespace#", "http://purl.org/pie/":
                self = .atom03
            case let other where other.hasPrefix("http://purl.org/atom/ns#draft") || other.hasPrefix("http://example.com/newformat#") || other.hasPrefix("http://www.w3.org/2005/Atom"):
                self = .atom10
            case "http://purl.org/rss/1.0/modules/content/": self = .content
            case "http://purl.org/dc/elements/1.1/", "http://purl.org/dc/terms/": self = .dc
            case "http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss": self = .media
            case "http://purl.org/rss/1.0/modules/syndication/": self = .sy
            case "http://www.w3.org/XML/1998/namespace": self = .xml
            case "http://www.itunes.com/dtds/podcast-1.0.dtd", "https://www.itunes.com/dtds/podcast-1.0.dtd": self = .itunes
            case "http://www.w3.org/1999/xhtml": self = .xhtml
            default: self = .other
            }
            return
        }
        switch prefix {
        case nil: self = .none
        case "content": self = .content
        case "dc", "dcterms": self = .dc
        case "atom": self = .atom10
        case "media": self = .media
        case "sy": self = .sy
        case "itunes": self = .itunes
        case "xhtml": self = .xhtml
        case "rdf": self = .rdf
        case "xml": self = .xml
        default: self = .other
        }
    }
}

/// The element names RSS's structure turns on, told apart once per distinct name of a document
/// (so the per-element switches compare a byte, not strings).
enum StructureKey: UInt8 {
    case other, item, image, textInput, enclosure, guid, skipHours, skipDays, container, hour, day, url,
         title, link, description, pubDate, author, category

    init(_ name: String) {
        switch name {
        case "title": self = .title
        case "link": self = .link
        case "description": self = .description
        case "pubDate": self = .pubDate
        case "author": self = .author
        case "category": self = .category
        case "item": self = .item
        case "image": self = .image
        case "textinput", "textInput": self = .textInput
        case "enclosure": self = .enclosure
        case "guid": self = .guid
        case "skipHours": self = .skipHours
        case "skipDays": self = .skipDays
        case "channel", "rss", "items", "Seq", "li": self = .container
        case "hour": self = .hour
        case "day": self = .day
        case "url": self = .url
        default: self = .other
        }
    }
}

/// An element name with its namespace resolved.
struct Element {
    var namespace: Namespace
    var name: String {
        didSet { key = StructureKey(name) }
    }
    /// `name` as far as RSS's structure cares.
    private(set) var key: StructureKey

    init(_ xmlName: XMLName) {
        var local = xmlName.localName
        var prefix = xmlName.prefix
        // libxml2 reports an element with an undeclared prefix as one local name "p:name".
        if xmlName.namespaceURI == nil, prefix == nil, local.utf8.contains(UInt8(ascii: ":")),
           let colon = local.firstIndex(of: ":") {
            prefix = String(local[..<colon])
            local = String(local[local.index(after: colon)...])
        }
        self.namespace = Namespace(uri: xmlName.namespaceURI, prefix: prefix)
        self.name = local
        self.key = StructureKey(local)
    }

    init(namespace: Namespace, name: String) {
        self.namespace = namespace
        self.name = name
        self.key = StructureKey(name)
    }

    func `is`(_ namespace: Namespace, _ name: String) -> Bool {
        self.namespace == namespace && self.name == name
    }
}

/// Receives SAX events, tracks `xml:base`, captures element text and forwards to the adapter
/// that the root element selects.
final class FeedDocumentHandler: XMLStreamHandler {
    private(set) var adapter: FeedFormatAdapter?
    private(set) var rootName: String?
    private(set) var rootLanguage: String?
    private(set) var truncatedText = false
    private let captureStore = TextCapture(mode: .text)
    private var baseStack: [String?]
    /// The resolved name of every open element, so an end event needs no second resolution.
    private var elementStack: [Element] = []
    /// `Element`s by `XMLName.internedIndex`.
    private var resolved: [Element?] = []
    private var depth = 0
    private var capture: TextCapture?

    private let entryLimit: Int?

    init(documentURL: String?, entryLimit: Int?) {
        baseStack = [documentURL]
        self.entryLimit = entryLimit
    }

    /// The root's default namespace: an RDF document of RSS 0.90 may say so only there.
    private var rootDefault: Namespace?

    func rootDefaultNamespace(_ uri: String) {
        rootDefault = Namespace(uri: uri, prefix: nil)
    }

    func startElement(_ name: XMLName, attributes: [XMLAttribute]) {
        depth += 1
        let parentBase = baseStack.last ?? nil
        var base = parentBase
        if let xmlBase = attributes.first(where: { $0.name.localName == "base" && Namespace(uri: $0.name.namespaceURI, prefix: $0.name.prefix) == .xml }) {
            base = URLResolver.resolve(xmlBase.value, against: parentBase) ?? xmlBase.value
        }
        baseStack.append(base)

        if let capture {
            capture.openChild(name, attributes: attributes)
            elementStack.append(Element(namespace: .other, name: ""))
            return
        }
        let element = resolve(name)
        elementStack.append(element)
        if rootName == nil {
            rootName = name.qualified
            rootLanguage = attributes.first(where: { $0.name.localName == "lang" && Namespace(uri: $0.name.namespaceURI, prefix: $0.name.prefix) == .xml })
                .map { $0.value.replacingOccurrences(of: "_", with: "-") }
            adapter = Self.adapter(forRoot: element, attributes: attributes, defaultNamespace: rootDefault)
            adapter?.limitEntries(to: entryLimit)
        }
        if let mode = adapter?.start(element, attributes: attributes, base: base) {
            // One capture object serves every field in turn: no allocation per field.
            captureStore.reset(mode: mode)
            capture = captureStore
        }
    }

    /// The element for `name`, resolved once per distinct name of the document.
    private func resolve(_ name: XMLName) -> Element {
        let index = name.internedIndex
        guard index >= 0 else { return Element(name) }
        if index < resolved.count, let known = resolved[index] { return known }
        let element = Element(name)
        if index >= resolved.count { resolved.append(contentsOf: repeatElement(nil, count: index - resolved.count + 1)) }
        resolved[index] = element
        return element
    }

    func endElement(_ name: XMLName) {
        let base = baseStack.last ?? nil
        let element = elementStack.popLast() ?? Element(name)
        defer {
            depth -= 1
            baseStack.removeLast()
        }
        if let capture {
            if capture.childDepth > 0 {
                capture.closeChild(name)
                return
            }
            self.capture = nil
            if capture.truncated { truncatedText = true }
            adapter?.end(element, text: capture.text, base: base)
            return
        }
        adapter?.end(element, text: nil, base: base)
    }

    func characters(_ bytes: UnsafeBufferPointer<UInt8>) {
        capture?.append(bytes)
    }

    func entityReference(named name: String) {
        // HTML entities (&nbsp; &eacute; ...) are not XML's, but feeds use them all the time.
        if let text = HTMLEntity.decode(name) {
            capture?.appendDecoded(text)
        } else {
            capture?.appendDecoded("&\(name);")
        }
    }

    private static func adapter(forRoot root: Element, attributes: [XMLAttribute], defaultNamespace: Namespace?) -> FeedFormatAdapter? {
        switch (root.namespace, root.name) {
        case (.none, "rss"), (.other, "rss"):
            let version = attributes.first(where: { $0.name.localName == "version" })?.value ?? "2.0"
            return RSSAdapter(format: RSSAdapter.format(forVersion: version))
        case (.rdf, "RDF"), (_, "RDF"):
            return RSSAdapter(format: defaultNamespace == .rss090 ? .rss090 : .rss10)
        case (.atom10, "feed"):
            return AtomAdapter(format: .atom10)
        case (.atom03, "feed"):
            return AtomAdapter(format: .atom03)
        case (.none, "feed"):
            return AtomAdapter(format: .atom10)  // Atom without its namespace: read it anyway.
        default:
            return nil
        }
    }
}

/// Accumulates the content of one element (see `CaptureMode`).
final class TextCapture {
    /// No single field may grow past this (a huge text node is cut, not kept whole).
    static let maximumBytes = 8 << 20
    private(set) var mode: CaptureMode
    private(set) var truncated = false
    private(set) var childDepth = 0
    private var bytes: [UInt8] = []
    /// The common case, a field that is one run of text, becomes a String straight from the
    /// parser's buffer: one copy instead of two.
    private var single: String?
    private var skippedWrapper = false
    private var wrapperDepth = -1

    init(mode: CaptureMode) { self.mode = mode }

    /// Moves a pending single run into `bytes` before anything else is added.
    private func spillSingle() {
        if let text = single {
            bytes.append(contentsOf: text.utf8)
            single = nil
        }
    }

    /// Starts a new field, keeping the storage of the last one.
    func reset(mode: CaptureMode) {
        self.mode = mode
        truncated = false
        childDepth = 0
        skippedWrapper = false
        wrapperDepth = -1
        single = nil
        bytes.removeAll(keepingCapacity: true)
    }

    var text: String {
        var decoded = single ?? bytes.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
        // C1 controls (U+0080–U+009F, C2 80 to C2 9F in UTF-8) never belong in text; they come
        // from Windows-1252 bytes or character references like &#146; written by tools that
        // meant Windows-1252.
        let replaced = decoded.withUTF8 { buffer -> String? in
            // memchr finds the candidate lead bytes (rare in most text) at memory speed.
            guard let base = buffer.baseAddress else { return nil }
            var firstC1: Int?
            var from = 0
            while from + 1 < buffer.count, let found = memchr(base + from, 0xC2, buffer.count - from - 1) {
                let offset = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if buffer[offset + 1] <= 0x9F {
                    firstC1 = offset
                    break
                }
                from = offset + 2
            }
            guard let firstC1 else { return nil }
            var index = firstC1
            var out = Array(buffer[..<firstC1])
            out.reserveCapacity(buffer.count + 8)
            while index < buffer.count {
                if buffer[index] == 0xC2, index + 1 < buffer.count, buffer[index + 1] <= 0x9F {
                    out.append(contentsOf: DocumentEncoding.windows1252ToUTF8([buffer[index + 1]], all: true))
                    index += 2
                } else {
                    out.append(buffer[index])
                    index += 1
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
        return replaced ?? decoded
    }

    func append(_ chunk: UnsafeBufferPointer<UInt8>) {
        guard bytes.count + (single?.utf8.count ?? 0) + chunk.count <= Self.maximumBytes else {
            truncated = true
            return
        }
        if mode == .xhtml || childDepth > 0 {
            spillSingle()
            for byte in chunk { appendEscaped(byte) }
        } else if bytes.isEmpty && single == nil {
            single = String(decoding: chunk, as: UTF8.self)
        } else {
            spillSingle()
            bytes.append(contentsOf: chunk)
        }
    }

    func appendDecoded(_ text: String) {
        spillSingle()
        if mode == .xhtml || childDepth > 0 {
            for byte in text.utf8 { appendEscaped(byte) }
        } else {
            bytes.append(contentsOf: text.utf8)
        }
    }

    func openChild(_ name: XMLName, attributes: [XMLAttribute]) {
        spillSingle()
        childDepth += 1
        if mode == .xhtml && childDepth == 1 && name.localName == "div" && !skippedWrapper && bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }) {
            skippedWrapper = true
            wrapperDepth = 1
            bytes.removeAll()
            return
        }
        bytes.append(UInt8(ascii: "<"))
        bytes.append(contentsOf: name.localName.utf8)
        for attribute in attributes {
            bytes.append(UInt8(ascii: " "))
            bytes.append(contentsOf: attribute.name.localName.utf8)
            bytes.append(contentsOf: "=\"".utf8)
            for byte in attribute.value.utf8 {
                if byte == UInt8(ascii: "\"") { bytes.append(contentsOf: "&quot;".utf8) } else { appendEscaped(byte) }
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(contentsOf: Self.voidElements.contains(name.localName) ? Array(" />".utf8) : [UInt8(ascii: ">")])
    }

    func closeChild(_ name: XMLName) {
        spillSingle()
        defer { childDepth -= 1 }
        if childDepth == wrapperDepth {
            wrapperDepth = -1
            return
        }
        if Self.voidElements.contains(name.localName) { return }
        bytes.append(contentsOf: "</".utf8)
        bytes.append(contentsOf: name.localName.utf8)
        bytes.append(UInt8(ascii: ">"))
    }

    private func appendEscaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "&"): bytes.append(contentsOf: "&amp;".utf8)
        case UInt8(ascii: "<"): bytes.append(contentsOf: "&lt;".utf8)
        case UInt8(ascii: ">"): bytes.append(contentsOf: "&gt;".utf8)
        default: bytes.append(byte)
        }
    }

    private static let voidElements: Set<String> = ["br", "img", "hr", "meta", "link", "input", "source", "wbr", "col", "area", "base", "embed", "param", "track"]
}

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
    static func trimmedWhitespace(_ text: String) -> String {
        let utf8 = text.utf8
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        guard let first = utf8.firstIndex(where: { !isSpace($0) }), let last = utf8.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        if first == utf8.startIndex && utf8.index(after: last) == utf8.endIndex { return text }
        return String(text[first...last])
    }
}
