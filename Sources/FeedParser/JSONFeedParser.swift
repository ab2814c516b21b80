import DatesAndCharsets
import FeedModel
import Foundation

/// Maps JSON Feed 1.0 and 1.1 (https://jsonfeed.org) onto `ParsedFeed`. Read with `JSONReader`
/// (plain Swift values, not Foundation's object graph), and items past `maxEntries` are skipped
/// without being built: a hostile feed of 300,000 tiny items costs what `maxEntries` cost.
enum JSONFeedParser {
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, url: String?, maxEntries: Int? = nil) throws(FeedParseError) -> ParsedFeed {
        var reader = JSONReader(bytes, limiting: "items", keep: maxEntries)
        let value: JSONValue
        do {
            value = try reader.read()
        } catch {
            throw .invalidJSON(reason: error.description)
        }
        guard let root = value.object else { throw .notAFeed(rootElement: "JSON value") }
        guard let version = root["version"]?.string?.trimmingCharacters(in: .whitespaces),
              version.contains("jsonfeed.org/version/") || ["1", "1.0", "1.1"].contains(version) else {
            throw .notAFeed(rootElement: "JSON object without a jsonfeed.org \"version\"")
        }
        var feed = ParsedFeed(format: .jsonfeed)
        if !version.contains("jsonfeed.org/version/") {
            // A bare number where the spec asks for the URL: read it, and say so.
            feed.bozo = true
            feed.bozoReason = "\"version\": \"\(version)\" should be the URL https://jsonfeed.org/version/\(version == "1.0" ? "1" : version)"
        }
        feed.title = root["title"]?.string.flatMap { FeedText.plain($0, isHTML: false) }
        feed.link = resolve(root["home_page_url"], url)
        feed.subtitle = FeedText.trimmed(root["description"]?.string)
        feed.subtitleIsPlainText = true
        feed.language = FeedText.trimmed(root["language"]?.string)
        feed.author = author(root)
        feed.id = FeedText.trimmed(root["feed_url"]?.string)
        feed.image = resolve(root["icon"], url) ?? resolve(root["favicon"], url)
        feed.nextPage = resolve(root["next_url"], url)
        for case let .object(item) in root["items"]?.array ?? [] {
            var entry = FeedEntry()
            switch item["id"] {
            case let .string(id): entry.id = FeedText.trimmed(id)
            case let .number(number): entry.id = number
            default: break
            }
            entry.title = item["title"]?.string.flatMap { FeedText.plain($0, isHTML: false) }
            entry.link = resolve(item["url"], url) ?? resolve(item["external_url"], url)
            for key in ["url", "external_url"] {
                if let href = resolve(item[key], url) { entry.links.append(FeedLink(href: href, rel: key == "url" ? "alternate" : "related", type: nil)) }
            }
            entry.published = item["date_published"]?.string.flatMap(FeedDate.parse)
            entry.updated = item["date_modified"]?.string.flatMap(FeedDate.parse)
            entry.author = author(item)
            if let html = item["content_html"]?.string {
                entry.content = html
            } else if let text = item["content_text"]?.string {
                entry.content = text
                entry.contentIsPlainText = true
            }
            if let summary = item["summary"]?.string {
                entry.summary = summary
                entry.summaryIsPlainText = true
            }
            entry.categories = (item["tags"]?.array ?? []).compactMap(\.string)
            for case let .object(attachment) in item["attachments"]?.array ?? [] {
                guard let href = resolve(attachment["url"], url) else { continue }
                var size: String?
                if case let .number(number) = attachment["size_in_bytes"] { size = number }
                entry.enclosures.append(FeedEnclosure(url: href, type: attachment["mime_type"]?.string, length: size))
            }
            feed.entries.append(entry)
        }
        feed.entryLimit = maxEntries
        feed.entriesOmitted = reader.skippedElements
        return feed
    }

    private static func resolve(_ value: JSONValue?, _ base: String?) -> String? {
        guard let text = value?.string else { return nil }
        return URLResolver.resolve(text, against: base)
    }

    /// `author` (1.0) or the first of `authors` (1.1).
    private static func author(_ object: [String: JSONValue]) -> String? {
        let person = object["authors"]?.array?.first?.object ?? object["author"]?.object
        return person?["name"]?.string.flatMap { FeedText.plain($0, isHTML: false) }
    }
}
