import FeedModel
import Foundation

/// Maps JSON Feed 1.0 and 1.1 (https://jsonfeed.org) onto `ParsedFeed`.
enum JSONFeedParser {
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, url: String?) throws(FeedParseError) -> ParsedFeed {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            throw .notXML(firstIssue: "starts with '{' but is not valid JSON (\((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"))")
        }
        guard let root = object as? [String: Any] else { throw .notAFeed(rootElement: "JSON value") }
        guard let version = root["version"] as? String, version.contains("jsonfeed.org/version/") else {
            throw .notAFeed(rootElement: "JSON object without a jsonfeed.org \"version\"")
        }
        var feed = ParsedFeed(format: .jsonfeed)
        feed.title = (root["title"] as? String).flatMap { FeedText.plain($0, isHTML: false) }
        feed.link = resolve(root["home_page_url"], url)
        feed.subtitle = FeedText.trimmed(root["description"] as? String)
        feed.language = FeedText.trimmed(root["language"] as? String)
        feed.author = author(root)
        feed.id = FeedText.trimmed(root["feed_url"] as? String)
        feed.image = resolve(root["icon"], url) ?? resolve(root["favicon"], url)
        for item in root["items"] as? [[String: Any]] ?? [] {
            var entry = FeedEntry()
            if let id = item["id"] as? String { entry.id = FeedText.trimmed(id) } else if let number = item["id"] as? NSNumber { entry.id = number.stringValue }
            entry.title = (item["title"] as? String).flatMap { FeedText.plain($0, isHTML: false) }
            entry.link = resolve(item["url"], url) ?? resolve(item["external_url"], url)
            for key in ["url", "external_url"] {
                if let href = resolve(item[key], url) { entry.links.append(FeedLink(href: href, rel: key == "url" ? "alternate" : "related", type: nil)) }
            }
            entry.published = (item["date_published"] as? String).flatMap(FeedDate.parse)
            entry.updated = (item["date_modified"] as? String).flatMap(FeedDate.parse)
            entry.author = author(item)
            if let html = item["content_html"] as? String {
                entry.content = html
            } else if let text = item["content_text"] as? String {
                entry.content = text
                entry.contentIsPlainText = true
            }
            if let summary = item["summary"] as? String {
                entry.summary = summary
                entry.summaryIsPlainText = true
            }
            entry.categories = (item["tags"] as? [Any] ?? []).compactMap { $0 as? String }
            for attachment in item["attachments"] as? [[String: Any]] ?? [] {
                guard let href = resolve(attachment["url"], url) else { continue }
                let size = (attachment["size_in_bytes"] as? NSNumber)?.stringValue
                entry.enclosures.append(FeedEnclosure(url: href, type: attachment["mime_type"] as? String, length: size))
            }
            feed.entries.append(entry)
        }
        return feed
    }

    private static func resolve(_ value: Any?, _ base: String?) -> String? {
        guard let text = value as? String else { return nil }
        return URLResolver.resolve(text, against: base)
    }

    /// `author` (1.0) or the first of `authors` (1.1).
    private static func author(_ object: [String: Any]) -> String? {
        let person = (object["authors"] as? [[String: Any]])?.first ?? object["author"] as? [String: Any]
        return (person?["name"] as? String).flatMap { FeedText.plain($0, isHTML: false) }
    }
}
