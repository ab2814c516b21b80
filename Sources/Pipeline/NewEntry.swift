import Dedupe
import FeedModel
import Foundation

/// A new entry of a polled feed with what is worked out of it once (its key, canonical link and
/// feed text), and only what the rest of the poll needs of the entry: the parsed document and its
/// markup are let go before the article pages are fetched.
struct NewEntry: Sendable {
    var key: String
    var entryID: String?
    var title: String?
    var link: String?
    /// The entry's canonical link.
    var url: String?
    var published: Date?
    var feedText: StoryText
    /// The end of the entry's markup, for the teaser rule (`FullTextRules.markupTail`); empty
    /// when the feed's `fulltext` policy does not ask the rule.
    var markupTail: String

    init(key: String, entry: FeedEntry, canonicalizer: URLCanonicalizer, forTeaserRule: Bool) {
        self.key = key
        entryID = entry.id
        title = entry.title
        link = entry.link
        url = entry.link.map(canonicalizer.canonicalize)
        published = entry.published ?? entry.updated
        feedText = StoryBuilder.story(from: entry)
        markupTail = forTeaserRule ? FullTextRules.markupTail(of: entry) : ""
    }
}
