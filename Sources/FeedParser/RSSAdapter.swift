import DatesAndCharsets
import FeedModel
import Foundation
import XMLSupport

/// Maps RSS 0.9x, 1.0 (RDF) and 2.0 onto `ParsedFeed`.
///
/// RSS's core elements carry no namespace in 0.91–2.0, the RSS 1.0 namespace in RDF feeds and
/// the Netscape one in 0.90; all three are read the same way.
final class RSSAdapter: FeedFormatAdapter {
    // Per-event state of one parse on one thread, no access overlapping another: unchecked (see
    // FeedDocumentHandler).
    @exclusivity(unchecked) private var feed: ParsedFeed
    @exclusivity(unchecked) private var entry: FeedEntry?
    /// Kept beside `entry`: testing the optional for nil would copy the whole entry each time.
    private var inEntry: Bool { entryOpen }
    @exclusivity(unchecked) private var entryOpen = false
    @exclusivity(unchecked) private var entryFallbackID: String?
    @exclusivity(unchecked) private var guidIsPermaLink = true
    @exclusivity(unchecked) private var guidIsURL = false
    @exclusivity(unchecked) private var entryDCIdentifier: String?
    /// The item's summary came from a `<summary>` element (not RSS, but seen in feeds).
    @exclusivity(unchecked) private var summaryFromSummaryElement = false
    /// How many links the item had when its <link> ended.
    @exclusivity(unchecked) private var alternatePosition: Int?
    @exclusivity(unchecked) private var inImage = false
    @exclusivity(unchecked) private var inTextInput = false
    @exclusivity(unchecked) private var inSkipHours = false
    @exclusivity(unchecked) private var inSkipDays = false
    /// Inside an `atom:author` of an item (its `atom:name` is the author).
    @exclusivity(unchecked) private var inAtomAuthor = false
    /// An RDF document whose RSS elements are in a namespace this reader does not know: they are
    /// read as RSS 1.0, and the document is flagged.
    private var unknownNamespaceIsCore = false

    init(format: FeedFormat) {
        feed = ParsedFeed(format: format)
    }

    /// The format an `<rss version="...">` names; nil when the attribute is missing.
    /// A 0.91 document is UserLand's dialect until its DOCTYPE says Netscape (see `FeedParser`).
    static func format(forVersion version: String?) -> FeedFormat {
        guard let version = version?.trimmingCharacters(in: .whitespaces) else { return .rss }
        switch version {
        case "0.90": return .rss090
        case "0.91": return .rss091u
        case "0.92": return .rss092
        case "0.93": return .rss093
        case "0.94": return .rss094
        default: return version.hasPrefix("2.") || version == "2" ? .rss20 : .rss
        }
    }

    private func isCore(_ element: Element) -> Bool {
        switch element.namespace {
        case .none, .rss10, .rss090: return true
        case .other: return unknownNamespaceIsCore
        default: return false
        }
    }

    func start(_ element: Element, attributes: [XMLAttribute], base: String?) -> CaptureMode? {
        // RSS 0.90 is RDF with Netscape's namespace: whichever of its elements comes first says so.
        if element.namespace == .rss090 && feed.format == .rss10 {
            feed.format = .rss090
        }
        if feed.format == .rss10 && element.namespace == .other && !unknownNamespaceIsCore
            && (element.name == "channel" || element.name == "item") {
            unknownNamespaceIsCore = true
            feed.bozo = true
            feed.bozoReason = "the RDF document's <\(element.name)> is in a namespace that is neither RSS 1.0 nor 0.90; read as RSS 1.0"
        }
        if isCore(element) {
            switch element.key {
            case .item:
                entry = FeedEntry()
                entryOpen = true
                entryFallbackID = attributes.first(where: { $0.name.localName == "about" })?.value
                entryDCIdentifier = nil
                alternatePosition = nil
                summaryFromSummaryElement = false
                return nil
            case .image where !inEntry:
                inImage = true
                return nil
            case .textInput:
                inTextInput = true
                return nil
            case .enclosure where inEntry:
                if let url = attribute("url", attributes) {
                    let enclosure = FeedEnclosure(
                        url: URLResolver.resolve(url, against: base) ?? url,
                        type: attribute("type", attributes), length: attribute("length", attributes))
                    entry?.enclosures.append(enclosure)
                    // Also a link, as Atom writes enclosures and feedparser lists them.
                    entry?.links.append(FeedLink(href: enclosure.url, rel: "enclosure", type: enclosure.type))
                }
                return nil
            case .guid:
                guidIsPermaLink = attribute("isPermaLink", attributes)?.lowercased() != "false"
                return .text
            case .skipHours where !inEntry:
                inSkipHours = true
                return nil
            case .skipDays where !inEntry:
                inSkipDays = true
                return nil
            case .container:
                return nil
            default:
                return inTextInput ? nil : .text
            }
        }
        switch element.namespace {
        case .atom10 where element.name == "link" && inEntry:
            if let href = attribute("href", attributes) {
                entry?.links.append(FeedLink(
                    href: URLResolver.resolve(href, against: base) ?? href,
                    rel: attribute("rel", attributes) ?? "alternate", type: attribute("type", attributes)))
            }
            return nil
        case .atom10 where element.name == "link":
            // The channel's atom:link: RFC 5005 paging and archive links (self and hub are not needed).
            if let href = attribute("href", attributes) {
                feed.notePagingLink(FeedLink(href: URLResolver.resolve(href, against: base) ?? href,
                                             rel: attribute("rel", attributes) ?? "alternate", type: nil))
            }
            return nil
        case .atom10 where element.name == "author":
            inAtomAuthor = true
            return nil
        case .atom10:
            // Atom's text constructs inside RSS: XHTML content is serialised, the rest read as text.
            let type = attribute("type", attributes)?.lowercased()
            return type == "xhtml" ? .xhtml : .text
        case .itunes where element.name == "image":
            if let href = attribute("href", attributes), feed.image == nil, !inEntry {
                feed.image = URLResolver.resolve(href, against: base) ?? href
            }
            return nil
        case .xhtml where element.name == "body":
            return .xhtml
        case .content, .dc, .sy, .itunes:
            return .text
        default:
            return nil
        }
    }

    func end(_ element: Element, text: String?, base: String?) {
        if element.namespace == .atom10 && element.name == "author" {
            inAtomAuthor = false
            return
        }
        if isCore(element) {
            switch element.key {
            case .item:
                finishEntry(base: base)
                return
            case .image:
                inImage = false
                return
            case .textInput:
                inTextInput = false
                return
            case .skipHours:
                inSkipHours = false
                return
            case .skipDays:
                inSkipDays = false
                return
            case .hour where inSkipHours:
                if let hour = text.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }), (0...24).contains(hour) {
                    feed.skipHours.append(hour % 24)
                }
                return
            case .day where inSkipDays:
                if let day = FeedText.trimmed(text) { feed.skipDays.append(day) }
                return
            default:
                break
            }
        }
        guard let text else { return }
        if inEntry {
            entryField(element, text: text, base: base)
        } else if inImage {
            if isCore(element) && element.key == .url {
                feed.image = URLResolver.resolve(text, against: base)
            }
        } else if !inTextInput {
            channelField(element, text: text, base: base)
        }
    }

    /// One field of an item. Where several elements carry one field, the core RSS element wins
    /// (`title`, `description`, `pubDate`, `author`, `content:encoded`); the extension elements
    /// fill only a field still empty, in document order (README, Feed parsing).
    private func entryField(_ element: Element, text: String, base: String?) {
        if isCore(element) {
            // The common case first, by key (the extension namespaces are never core).
            switch element.key {
            case .title: entry?.title = FeedText.plain(text)
            case .link:
                if let link = FeedText.trimmed(text) {
                    entry?.link = URLResolver.resolve(link, against: base)
                    alternatePosition = entry?.links.count
                }
            case .description:
                if summaryFromSummaryElement, entry?.content == nil {
                    // `<summary>` came first: the description is the fuller text (feedparser's rule).
                    entry?.content = text
                    entry?.contentIsPlainText = false
                    entry?.contentBase = base
                } else {
                    entry?.summary = text
                    entry?.summaryBase = base
                }
            case .guid:
                entry?.id = FeedText.trimmed(text)
                guidIsURL = entry?.id.map { $0.hasPrefix("http://") || $0.hasPrefix("https://") } ?? false
            case .pubDate: entry?.published = FeedDate.parse(text)
            case .author: entry?.author = FeedText.plain(text)
            case .category: if let category = FeedText.plain(text) { entry?.categories.append(category) }
            default:
                // `<summary>` is no RSS element, but feeds written by Atom-minded tools use it: the
                // first summary-like element is the summary, a second one the content.
                guard element.name == "summary" else { break }
                if entry?.summary == nil {
                    entry?.summary = text
                    entry?.summaryBase = base
                    summaryFromSummaryElement = true
                } else if entry?.content == nil {
                    entry?.content = text
                    entry?.contentIsPlainText = false
                    entry?.contentBase = base
                }
            }
            return
        }
        switch (element.namespace, element.name) {
        case (.content, "encoded"):
            entry?.content = text
            entry?.contentIsPlainText = false
            entry?.contentBase = base
        case (.dc, "title"), (.atom10, "title"):
            if entry?.title == nil { entry?.title = FeedText.plain(text) }
        case (.dc, "description"), (.atom10, "summary"):
            if entry?.summary == nil {
                entry?.summary = text
                entry?.summaryBase = base
            }
        case (.itunes, "summary"), (.itunes, "subtitle"):
            if entry?.summary == nil {
                entry?.summary = text
                entry?.summaryIsPlainText = true
            }
        case (.dc, "issued"), (.dc, "created"), (.atom10, "published"):
            if entry?.published == nil, let date = FeedDate.parse(text) { entry?.published = date }
        case (.dc, "modified"), (.atom10, "updated"):
            if entry?.updated == nil, let date = FeedDate.parse(text) { entry?.updated = date }
        case (.itunes, "author"):
            if entry?.author == nil { entry?.author = FeedText.plain(text) }
        case (.atom10, "name") where inAtomAuthor:
            if entry?.author == nil { entry?.author = FeedText.plain(text) }
        case (.atom10, "content"), (.xhtml, "body"):
            if entry?.content == nil {
                entry?.content = text.trimmingWhitespace
                entry?.contentBase = base
            }
        case (.dc, "creator"), (.dc, "contributor"):
            if entry?.author == nil { entry?.author = FeedText.plain(text) }
        case (.dc, "date"):
            if entry?.published == nil { entry?.published = FeedDate.parse(text) }
        case (.dc, "subject"):
            if let category = FeedText.plain(text) { entry?.categories.append(category) }
        case (.dc, "identifier"):
            entryDCIdentifier = FeedText.trimmed(text)
        case (.dc, "language"):
            break
        default:
            break
        }
    }

    private func channelField(_ element: Element, text: String, base: String?) {
        switch (element.namespace, element.name) {
        case (.dc, "title"), (.atom10, "title"): if feed.title == nil { feed.title = FeedText.plain(text) }
        case (.dc, "description"), (.itunes, "summary"), (.itunes, "subtitle"), (.atom10, "subtitle"):
            if feed.subtitle == nil {
                feed.subtitle = FeedText.trimmed(text)
                feed.subtitleIsPlainText = element.namespace == .itunes
                feed.subtitleBase = base
            }
        case (.itunes, "author"): if feed.author == nil { feed.author = FeedText.plain(text) }
        case (.dc, "modified"), (.atom10, "updated"): if feed.updated == nil { feed.updated = FeedDate.parse(text) }
        case (.dc, "language"): if feed.language == nil { feed.language = FeedText.trimmed(text) }
        case (.dc, "creator"): if feed.author == nil { feed.author = FeedText.plain(text) }
        case (.dc, "date"): if feed.updated == nil { feed.updated = FeedDate.parse(text) }
        case (.sy, "updatePeriod"): feed.updatePeriod = FeedText.trimmed(text)?.lowercased()
        case (.sy, "updateFrequency"): feed.updateFrequency = FeedText.trimmed(text).flatMap { Int($0) }
        case (.dc, "rights"): break
        case let (_, name) where isCore(element):
            switch name {
            case "title": feed.title = FeedText.plain(text)
            case "link": if let link = FeedText.trimmed(text) { feed.link = URLResolver.resolve(link, against: base) }
            case "description":
                feed.subtitle = FeedText.trimmed(text)
                feed.subtitleIsPlainText = false
                feed.subtitleBase = base
            case "language": feed.language = FeedText.trimmed(text)
            case "lastBuildDate": if let date = FeedDate.parse(text) { feed.updated = date }
            case "pubDate": if feed.updated == nil { feed.updated = FeedDate.parse(text) }
            case "generator": feed.generator = FeedText.plain(text)
            case "managingEditor", "webMaster": if feed.author == nil { feed.author = FeedText.plain(text) }
            case "ttl": feed.ttlMinutes = FeedText.trimmed(text).flatMap { Int($0) }.flatMap { $0 >= 0 ? $0 : nil }
            default: break
            }
        default:
            break
        }
    }

    private func finishEntry(base: String?) {
        guard var finished = entry else { return }
        entry = nil
        entryOpen = false
        if finished.id == nil { finished.id = entryDCIdentifier ?? entryFallbackID }
        if finished.link == nil {
            if let alternate = finished.links.first(where: { $0.rel == "alternate" }) {
                finished.link = alternate.href
            } else if guidIsPermaLink && guidIsURL, let id = finished.id {
                finished.link = id  // RSS 2.0: a permalink guid is the item's URL.
            }
        }
        if let link = finished.link, !finished.links.contains(where: { $0.href == link && $0.rel != "enclosure" }) {
            // Where <link> stood among the item's other links (enclosures, atom:link).
            let position = min(alternatePosition ?? 0, finished.links.count)
            finished.links.insert(FeedLink(href: link, rel: "alternate", type: nil), at: position)
        }
        alternatePosition = nil
        guidIsPermaLink = true
        guidIsURL = false
        feed.append(entry: finished)
    }

    func limitEntries(to limit: Int?) { feed.entryLimit = limit }

    func finish() -> ParsedFeed {
        if inEntry { finishEntry(base: nil) }  // Truncated document: keep the last item.
        return feed
    }

    private func attribute(_ name: String, _ attributes: [XMLAttribute]) -> String? {
        attributes.first(where: { $0.name.localName == name })?.value
    }
}
