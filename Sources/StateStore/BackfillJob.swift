import FeedModel
import Foundation

/// A backfill under way for one feed: the gap it recovers, where it has got to, and what it has
/// found. Kept in the state (as JSON) so a backfill that runs out of its pass's budget continues
/// at the next pass.
public struct BackfillJob: Sendable, Equatable, Codable {
    /// Why the feed is backfilled.
    public enum Reason: String, Sendable, Codable {
        /// A poll found only unknown entries: some were missed.
        case overflow
        /// The feed's first poll, with `backfill.seed`.
        case seed
    }

    /// Which source the backfill reads now; it moves forward only.
    public enum Phase: String, Sendable, Codable {
        /// Following the feed's RFC 5005 `prev-archive` / `next` links.
        case archive
        /// Reading robots.txt's `Sitemap:` lines, /sitemap.xml and the indexes they name.
        case sitemaps
        /// Fetching the article pages of the sitemap URLs found inside the gap.
        case urls
        /// Nothing left to do: the result is to be recorded.
        case done
    }

    /// A page a sitemap lists inside the gap.
    public struct Candidate: Sendable, Equatable, Codable {
        public var url: String
        public var published: Date?
        public var title: String?

        public init(url: String, published: Date?, title: String?) {
            self.url = url
            self.published = published
            self.title = title
        }
    }

    public var reason: Reason
    public var createdAt: Date
    /// Entries published in [gapStart, gapEnd] are looked for.
    public var gapStart: Date
    public var gapEnd: Date
    public var phase: Phase
    /// The next archive or paged-feed document to read.
    public var nextArchivePage: String?
    /// Whether the overflowing document linked to older entries at all.
    public var archiveLinked: Bool
    /// Where the site's sitemaps are (`scheme://host[:port]`), and the path that sitemap URLs
    /// must start with to belong to this feed ("/" when the feed's links share no section).
    public var siteOrigin: String?
    public var pathPrefix: String
    /// Sitemaps still to read, once robots.txt and /sitemap.xml have been looked at.
    public var sitemapsListed = false
    public var sitemapQueue: [String] = []
    /// Archive pages and sitemaps read (an index may name one twice, an archive link may loop).
    public var documentsRead: [String] = []
    /// Whether robots.txt or /sitemap.xml named at least one sitemap that could be read.
    public var sitemapFound = false
    public var candidates: [Candidate] = []
    /// Whether the archive walk reached an entry already known (or the gap's start): the gap is closed.
    public var archiveReachedKnown = false
    /// Documents fetched (archive pages, sitemaps) and article pages fetched for sitemap URLs.
    public var pagesUsed = 0
    public var urlsUsed = 0
    public var archivePages = 0
    public var storedViaArchive = 0
    public var storedViaSitemap = 0
    public var duplicates = 0
    /// Problems met (a failed page, a broken sitemap), the first few.
    public var notes: [String] = []

    public init(reason: Reason, createdAt: Date, gapStart: Date, gapEnd: Date, nextArchivePage: String?, siteOrigin: String?,
                pathPrefix: String) {
        self.reason = reason
        self.createdAt = createdAt
        self.gapStart = gapStart
        self.gapEnd = gapEnd
        self.nextArchivePage = nextArchivePage
        archiveLinked = nextArchivePage != nil
        self.siteOrigin = siteOrigin
        self.pathPrefix = pathPrefix
        phase = nextArchivePage == nil ? .sitemaps : .archive
    }

    /// Keeps a problem for the result line (the first five).
    public mutating func note(_ problem: String) {
        if notes.count < 5 { notes.append(problem) }
    }

    public var stored: Int { storedViaArchive + storedViaSitemap }

    /// Counts a stored batch: its stories (by where they were found) and its dropped duplicates.
    public mutating func count(stored: Int, duplicates: Int, via: StoryVia) {
        switch via {
        case .archive: storedViaArchive += stored
        case .sitemap: storedViaSitemap += stored
        }
        self.duplicates += duplicates
    }
}

/// What a commit changes of a feed's backfill.
public enum BackfillChange: Sendable, Equatable {
    /// A poll found a gap: this backfill is to run (it replaces one under way, whose gap it covers).
    case start(BackfillJob)
    /// A backfill's progress, saved with the stories it stored.
    case progress(BackfillJob)
    /// The backfill ended; `result` is what `status` shows of it.
    case finish(result: String)
}
