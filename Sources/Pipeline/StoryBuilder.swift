import Dedupe
import FeedModel
import Foundation
import TextCleanup

/// Turns a feed entry into the text of a corpus story: the headline, then the entry's content
/// (`content:encoded` / `atom:content`, else the summary) as plain paragraphs.
public enum StoryBuilder {
    public static func story(from entry: FeedEntry) -> StoryText {
        let headline = entry.title ?? ""
        var paragraphs = MarkupParagraphs.paragraphs(entry.content, format: entry.contentIsPlainText ? .plainText : .html)
        if paragraphs.isEmpty {
            paragraphs = MarkupParagraphs.paragraphs(entry.summary, format: entry.summaryIsPlainText ? .plainText : .html)
        }
        return StoryText(headline: headline, paragraphs: clean(paragraphs, headline: headline))
    }

    /// Drops what is not the story: the headline repeated as the first paragraph, and feed
    /// boilerplate at the end ("Read more", "Continue reading", WordPress's "The post ... appeared
    /// first on ...", a lone "[…]").
    static func clean(_ paragraphs: [String], headline: String) -> [String] {
        var result = Headline.dropLeading(from: paragraphs, titles: [headline])
        while let last = result.last, isTrailingBoilerplate(last) {
            result.removeLast()
        }
        return result
    }

    static func isTrailingBoilerplate(_ paragraph: String) -> Bool {
        let normalized = HashNormalizer.normalize(paragraph)
        if normalized.isEmpty || ReadMore.isLinkLine(normalized) { return true }
        if normalized.hasPrefix("the post ") && normalized.contains(" appeared first on ") { return true }
        if normalized.hasPrefix("continue reading ") && normalized.count < 120 { return true }
        return false
    }
}

/// How an entry is recognised when it is seen again: its id, else its canonical link, else a
/// hash of its title and text.
public enum EntryIdentity {
    /// Whether an entry id can identify a story across feeds and publishers: a URL, a URN or a tag
    /// URI, or a long opaque id. Short ids ("1234") only mean something within one feed.
    public static func isGloballyUnique(_ id: String) -> Bool {
        let lower = id.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("urn:") || lower.hasPrefix("tag:") {
            return lower.count > 12
        }
        return id.count >= 24 && !id.allSatisfy(\.isNumber)
    }

    public static func key(for entry: FeedEntry, canonicalizer: URLCanonicalizer) -> String {
        if let id = entry.id?.trimmingWhitespace, !id.isEmpty {
            return "id:" + id
        }
        if let link = entry.link, !link.isEmpty {
            return "url:" + canonicalizer.canonicalize(link)
        }
        let material = [entry.title, entry.summary, entry.content].map { $0 ?? "" }.joined(separator: "\u{1F}")
        return "hash:" + String(sha256Hex(Array(material.utf8)).prefix(32))
    }
}
