import FeedModel
import Foundation
import XMLSupport

/// Maps RSS 0.9x, 1.0 (RDF) and 2.0 onto `ParsedFeed`.
///
/// RSS's core elements carry no namespace in 0.91–2.0, the RSS 1.0 namespace in RDF feeds and
/// the Netscape one in 0.90; all three are read the same way.
final class RSSAdapter: FeedFormatAdapter {
    private var feed: ParsedFeed
    private var entry: FeedEntry?
    /// Kept beside `entry`: testing the optional for nil would copy the whole entry each time.
    private var inEntry: Bool { entryOpen }
    private var entryOpen = false
    private var entryFallbackID: String?
    private var guidIsPermaLink = true
    private var guidIsURL = false
    private var entryDCIdentifier: String?
    /// How many links the item had when its <link> ended.
    private var alternatePosition: Int?
    private var inImage = false
    private var inTextInput = false
    private var inSkipHours = false
    private var inSkipDays = false

    init(format: FeedFormat) {
        feed = ParsedFeed(format: format)
    }

    static func format(forVersion version: String) -> FeedFormat {
        switch version.trimmingCharacters(in: .whitespaces) {
        case "0.90": return .rss090
        case "0.91": return .rss091
        case "0.92": return .rss092
        case "0.93": return .rss093
        case "0.94": return .rss094
        default: return .rss20
        }
    }

    private func isCore(_ element: Element) -> Bool {
        switch element.namespace {
        case .none, .rss10, .rss090: return true
        default: return false
        }
    }

    func start(_ element: Element, attributes: [XMLAttribute], base: String?) -> CaptureMode? {
        if element.namespace == .rss090 && element.name == "channel" && feed.format == .rss10 {
            feed.format = .rss090
        }
        if isCore(element) {
            switch element.name {
            case "item":
                entry = FeedEntry()
                entryOpen = true
                entryFallbackID = attributes.first(where: { $0.name.localName == "about" })?.value
                entryDCIdentifier = nil
                alternatePosition = nil
                return nil
            case "image" where !inEntry:
                inImage = true
                return nil
            case "textinput", "textInput":
                inTextInput = true
                return nil
            case "enclosure" where inEntry:
                if let url = attribute("url", attributes) {
                    let enclosure = FeedEnclosure(
                        url: URLResolver.resolve(url, against: base) ?? url,
                        type: attribute("type", attributes), length: attribute("length", attributes))
                    entry?.enclosures.append(enclosure)
                    // Also a link, as Atom writes enclosures and feedparser lists them.
                    entry?.links.append(FeedLink(href: enclosure.url, rel: "enclosure", type: enclosure.type))
                }
                return nil
            case "guid":
                guidIsPermaLink = attribute("isPermaLink", attributes)?.lowercased() != "false"
                return .text
            case "skipHours" where !inEntry:
                inSkipHours = true
                return nil
            case "skipDays" where !inEntry:
                inSkipDays = true
                return nil
            case "channel", "rss", "items", "Seq", "li":
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
        case .content, .dc, .sy:
            return .text
        default:
            return nil
        }
    }

    func end(_ element: Element, text: String?, base: String?) {
        if isCore(element) {
            switch element.name {
            case "item":
                finishEntry(base: base)
                return
            case "image":
                inImage = false
                return
            case "textinput", "textInput":
                inTextInput = false
                return
            case "skipHours":
                inSkipHours = false
                return
            case "skipDays":
                inSkipDays = false
                return
            case "hour" where inSkipHours:
                if let hour = text.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }), (0...24).contains(hour) {
                    feed.skipHours.append(hour % 24)
                }
                return
            case "day" where inSkipDays:
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
            if isCore(element) && element.name == "url" {
                feed.image = URLResolver.resolve(text, against: base)
            }
        } else if !inTextInput {
            channelField(element, text: text, base: base)
        }
    }

    private func entryField(_ element: Element, text: String, base: String?) {
        switch (element.namespace, element.name) {
        case (.content, "encoded"):
            entry?.content = text
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
        case let (namespace, name) where namespace == .none || namespace == .rss10 || namespace == .rss090:
            switch name {
            case "title": entry?.title = FeedText.plain(text)
            case "link":
                if let link = FeedText.trimmed(text) {
                    entry?.link = URLResolver.resolve(link, against: base)
                    alternatePosition = entry?.links.count
                }
            case "description": entry?.summary = text
            case "guid":
                entry?.id = FeedText.trimmed(text)
                guidIsURL = entry?.id.map { $0.hasPrefix("http://") || $0.hasPrefix("https://") } ?? false
            case "pubDate": entry?.published = FeedDate.parse(text)
            case "author": entry?.author = FeedText.plain(text)
            case "category": if let category = FeedText.plain(text) { entry?.categories.append(category) }
            default: break
            }
        default:
            break
        }
    }

    private func channelField(_ element: Element, text: String, base: String?) {
        switch (element.namespace, element.name) {
        case (.dc, "language"): if feed.language == nil { feed.language = FeedText.trimmed(text) }
        case (.dc, "creator"): if feed.author == nil { feed.author = FeedText.plain(text) }
        case (.dc, "date"): if feed.updated == nil { feed.updated = FeedDate.parse(text) }
        case (.sy, "updatePeriod"): feed.updatePeriod = FeedText.trimmed(text)?.lowercased()
        case (.sy, "updateFrequency"): feed.updateFrequency = FeedText.trimmed(text).flatMap { Int($0) }
        case (.dc, "rights"): break
        case let (namespace, name) where namespace == .none || namespace == .rss10 || namespace == .rss090:
            switch name {
            case "title": feed.title = FeedText.plain(text)
            case "link": if let link = FeedText.trimmed(text) { feed.link = URLResolver.resolve(link, against: base) }
            case "description": feed.subtitle = FeedText.trimmed(text)
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
