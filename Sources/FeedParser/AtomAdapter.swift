import DatesAndCharsets
import FeedModel
import Foundation
import XMLSupport

/// Maps Atom 1.0 and Atom 0.3 onto `ParsedFeed`.
final class AtomAdapter: FeedFormatAdapter {
    // Per-event state of one parse on one thread, no access overlapping another: unchecked (see
    // FeedDocumentHandler).
    @exclusivity(unchecked) private var feed: ParsedFeed
    @exclusivity(unchecked) private var entry: FeedEntry?
    /// Kept beside `entry`: testing the optional for nil would copy the whole entry each time.
    private var inEntry: Bool { entryOpen }
    @exclusivity(unchecked) private var entryOpen = false
    @exclusivity(unchecked) private var textType: String?
    @exclusivity(unchecked) private var contentMode: String?
    @exclusivity(unchecked) private var authorName: String?
    @exclusivity(unchecked) private var authorEmail: String?
    @exclusivity(unchecked) private var inAuthor = false
    @exclusivity(unchecked) private var inSource = false

    init(format: FeedFormat) {
        feed = ParsedFeed(format: format)
    }

    private func isAtom(_ element: Element) -> Bool {
        element.namespace == .atom10 || element.namespace == .atom03
            || (element.namespace == .none && (feed.format == .atom10 || feed.format == .atom03))
    }

    func start(_ element: Element, attributes: [XMLAttribute], base: String?) -> CaptureMode? {
        guard isAtom(element), !inSource || element.name == "source" else { return nil }
        switch element.name {
        case "feed":
            return nil
        case "entry":
            entry = FeedEntry()
            entryOpen = true
            return nil
        case "source":
            inSource = true
            return nil
        case "author", "contributor":
            inAuthor = element.name == "author"
            authorName = nil
            authorEmail = nil
            return nil
        case "link":
            guard let href = attribute("href", attributes) else { return nil }
            let link = FeedLink(
                href: URLResolver.resolve(href, against: base) ?? href,
                rel: attribute("rel", attributes) ?? "alternate", type: attribute("type", attributes))
            if inEntry {
                entry?.links.append(link)
                if link.rel == "alternate" && entry?.link == nil { entry?.link = link.href }
                if link.rel == "enclosure" {
                    entry?.enclosures.append(FeedEnclosure(url: link.href, type: link.type, length: attribute("length", attributes)))
                }
            } else if link.rel == "alternate" && feed.link == nil {
                feed.link = link.href
            } else {
                feed.notePagingLink(link)
            }
            return nil
        case "category":
            if inEntry, let term = attribute("term", attributes) ?? attribute("label", attributes) {
                entry?.categories.append(term)
            }
            return nil
        case "title", "subtitle", "tagline", "summary", "content", "rights", "info":
            textType = attribute("type", attributes)?.lowercased()
            contentMode = attribute("mode", attributes)?.lowercased()
            if contentMode == "xml" || (feed.format == .atom03 && textType == "application/xhtml+xml") { return .inlineXML }
            if textType == "xhtml" || textType == "application/xhtml+xml" { return .xhtml }
            return .text
        default:
            return .text
        }
    }

    func end(_ element: Element, text: String?, base: String?) {
        guard isAtom(element) else { return }
        if inSource {
            if element.name == "source" { inSource = false }
            return
        }
        switch element.name {
        case "entry":
            if var finished = entry {
                // The entry's link is its alternate link, never an enclosure (a podcast's file).
                if finished.link == nil { finished.link = finished.links.first(where: { $0.rel != "enclosure" && $0.rel != "self" })?.href }
                feed.append(entry: finished)
            }
            entry = nil
            entryOpen = false
            return
        case "author", "contributor":
            if element.name == "author" {
                let author = Self.author(name: authorName, email: authorEmail)
                if inEntry {
                    if entry?.author == nil { entry?.author = author }
                } else if feed.author == nil {
                    feed.author = author
                }
            }
            inAuthor = false
            return
        default:
            break
        }
        guard let text else { return }
        let isPlain = textType == nil || textType == "text" || textType == "text/plain"
        let markup = decodedContent(text, element: element.name)
        if inEntry {
            switch element.name {
            case "id": entry?.id = Self.identifier(text, base: base)
            case "title": entry?.title = FeedText.plain(markup, isHTML: !isPlain)
            case "summary":
                entry?.summary = markup
                entry?.summaryIsPlainText = isPlain && element.name != "content"
                entry?.summaryBase = base
            case "content":
                entry?.content = markup
                entry?.contentIsPlainText = textType == "text" || textType == "text/plain"
                entry?.contentBase = base
            case "published", "issued", "created":
                // Not `entry?.published = parse ?? entry?.published`: the optional-chained write
                // holds `entry` while the right side reads it (exclusivity trap, found by fuzzing).
                if let date = FeedDate.parse(text), entry?.published == nil || element.name != "created" { entry?.published = date }
            case "updated", "modified": entry?.updated = FeedDate.parse(text)
            case "name": if inAuthor { authorName = FeedText.plain(text) }
            case "email": if inAuthor { authorEmail = FeedText.trimmed(text) }
            default: break
            }
        } else {
            switch element.name {
            case "id": feed.id = Self.identifier(text, base: base)
            case "title": feed.title = FeedText.plain(markup, isHTML: !isPlain)
            case "subtitle", "tagline":
                feed.subtitle = FeedText.trimmed(markup)
                feed.subtitleIsPlainText = isPlain
                feed.subtitleBase = base
            case "updated", "modified": feed.updated = FeedDate.parse(text)
            case "generator": feed.generator = FeedText.plain(text)
            case "logo", "icon": if feed.image == nil { feed.image = URLResolver.resolve(text, against: base) }
            case "name": if inAuthor { authorName = FeedText.plain(text) }
            case "email": if inAuthor { authorEmail = FeedText.trimmed(text) }
            default: break
            }
        }
        textType = nil
        contentMode = nil
    }

    /// Atom 0.3 allows `mode="base64"`; in Atom 1.0 a media type that is neither text nor XML
    /// means base64 (RFC 4287, 4.1.3.3). Publishers (and feedparser) apply that to titles and
    /// summaries too, so those are decoded as well, but only when the text is strict base64 whose
    /// bytes are valid UTF-8: a title that merely carries an odd type is read as it is, never
    /// turned into garbage.
    private func decodedContent(_ text: String, element: String) -> String {
        let isBinaryMediaType = textType.map { type in
            type.contains("/") && !type.hasPrefix("text/") && !type.hasSuffix("+xml") && !type.hasSuffix("/xml")
        } ?? false
        guard contentMode == "base64" || isBinaryMediaType else { return text }
        let compact = text.filter { !$0.isWhitespace }
        guard compact.count % 4 == 0, let data = Data(base64Encoded: compact), let decoded = String(data: data, encoding: .utf8) else {
            return text
        }
        return decoded
    }

    func limitEntries(to limit: Int?) { feed.entryLimit = limit }

    func finish() -> ParsedFeed {
        if let pending = entry {  // Truncated document: keep the last entry.
            feed.append(entry: pending)
            entry = nil
            entryOpen = false
        }
        return feed
    }

    /// An `atom:id` must be an absolute IRI; a relative one (a publisher's mistake) is resolved
    /// against the base, as feedparser does, so that it names the same entry from any copy.
    private static func identifier(_ text: String, base: String?) -> String? {
        guard let id = FeedText.trimmed(text) else { return nil }
        guard id.hasPrefix("/") || id.hasPrefix("./") || id.hasPrefix("../") || id.hasPrefix("?") else { return id }
        return URLResolver.resolve(id, against: base) ?? id
    }

    /// "name (email)", the name, or the e-mail address, as feedparser gives it.
    private static func author(name: String?, email: String?) -> String? {
        switch (name, email) {
        case let (name?, email?): return "\(name) (\(email))"
        case let (name?, nil): return name
        case let (nil, email?): return email
        default: return nil
        }
    }

    private func attribute(_ name: String, _ attributes: [XMLAttribute]) -> String? {
        attributes.first(where: { $0.name.localName == name && $0.name.namespaceURI == nil })?.value
    }
}
