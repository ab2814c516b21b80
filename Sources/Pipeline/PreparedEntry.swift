import ArticleExtractor
import Dedupe
import FeedModel
import Foundation

/// A new entry of a polled feed, made ready off the `Ingestor` (the pass's tasks run
/// concurrently): its text (the feed's, or the better article page's), fingerprints and terms.
public struct PreparedEntry: Sendable {
    public internal(set) var key: String
    /// What the manifest and the duplicates table keep of the entry and its page (not the
    /// documents themselves: a pass holds many prepared polls at once).
    public internal(set) var entryID: String?
    public internal(set) var title: String?
    /// The entry's canonical link.
    public internal(set) var url: String?
    public internal(set) var textSource: TextSource
    public internal(set) var published: Date?
    public internal(set) var pageLanguage: String?
    public internal(set) var pageAuthor: String?
    public internal(set) var pageCanonicalURL: String?
    public internal(set) var story: IncomingStory

    init(_ new: NewEntry, page: ExtractedArticle?, canonicalizer: URLCanonicalizer, polledAt: Date) {
        key = new.key
        entryID = new.entryID
        title = new.title
        pageLanguage = page?.language
        pageAuthor = page?.author
        pageCanonicalURL = page?.canonicalURL
        let url = new.url
        self.url = url
        var text = new.feedText
        var textSource = TextSource.feed
        var urls = url.map { [$0] } ?? []
        if let page {
            if let canonical = page.canonicalURL.map(canonicalizer.canonicalize), !urls.contains(canonical) { urls.append(canonical) }
            (text, textSource) = FullTextRules.choose(feed: text, page: page)
        }
        self.textSource = textSource
        published = new.published ?? page?.published
        story = IncomingStory(text: text, urls: urls, globalID: new.entryID.flatMap { EntryIdentity.isGloballyUnique($0) ? $0 : nil },
                              at: published ?? polledAt)
    }
}
