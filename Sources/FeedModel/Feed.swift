import Foundation

/// The feed formats the parser recognises, named as in `feedcorpus parse` output (and as
/// Python's feedparser names them).
///
/// RSS 0.91 has two dialects: Netscape's, whose documents name its DTD (`rss091n`), and
/// UserLand's (`rss091u`). `rss` is an `<rss>` document whose version is missing or unknown.
public enum FeedFormat: String, Sendable, Codable, CaseIterable {
    case rss20, rss10, rss090, rss091n, rss091u, rss092, rss093, rss094, rss, atom10, atom03, jsonfeed, unknown
}

/// A link of an entry, with its relation and media type as the feed gave them.
public struct FeedLink: Sendable, Equatable, Codable {
    public var href: String
    public var rel: String?
    public var type: String?

    public init(href: String, rel: String? = nil, type: String? = nil) {
        self.href = href
        self.rel = rel
        self.type = type
    }
}

/// A media enclosure (podcast audio, image, ...).
public struct FeedEnclosure: Sendable, Equatable, Codable {
    public var url: String
    public var type: String?
    public var length: String?

    public init(url: String, type: String? = nil, length: String? = nil) {
        self.url = url
        self.type = type
        self.length = length
    }
}

/// One item of a feed, normalised across formats: format quirks stay in the format adapters.
public struct FeedEntry: Sendable, Equatable {
    /// `guid` / `atom:id` as delivered, or nil when the feed gave none.
    public var id: String?
    /// Plain-text title (markup removed, entities decoded).
    public var title: String?
    /// The alternate link, resolved to an absolute URL where a base was known.
    public var link: String?
    public var published: Date?
    public var updated: Date?
    public var author: String?
    /// Summary markup as delivered (`description`, `atom:summary`), entities decoded once.
    public var summary: String?
    /// Full content markup as delivered (`content:encoded`, `atom:content`).
    public var content: String?
    /// Whether `summary`/`content` hold plain text rather than HTML (Atom `type="text"`).
    public var summaryIsPlainText: Bool
    public var contentIsPlainText: Bool
    /// The base URI in effect where `summary`/`content` stood (xml:base, else the document's):
    /// relative links in the markup resolve against it (`parse` does, as it prints them).
    public var summaryBase: String?
    public var contentBase: String?
    public var links: [FeedLink]
    public var categories: [String]
    public var enclosures: [FeedEnclosure]

    public init(
        id: String? = nil, title: String? = nil, link: String? = nil, published: Date? = nil,
        updated: Date? = nil, author: String? = nil, summary: String? = nil, content: String? = nil,
        summaryIsPlainText: Bool = false, contentIsPlainText: Bool = false,
        links: [FeedLink] = [], categories: [String] = [], enclosures: [FeedEnclosure] = []
    ) {
        self.id = id
        self.title = title
        self.link = link
        self.published = published
        self.updated = updated
        self.author = author
        self.summary = summary
        self.content = content
        self.summaryIsPlainText = summaryIsPlainText
        self.contentIsPlainText = contentIsPlainText
        self.links = links
        self.categories = categories
        self.enclosures = enclosures
    }
}

/// A parsed feed document in the one model every format adapter maps onto.
public struct ParsedFeed: Sendable, Equatable {
    public var format: FeedFormat
    public var title: String?
    public var link: String?
    /// The feed's description (Atom `subtitle`, RSS channel `description`, ...): markup as
    /// delivered, like an entry's summary, unless `subtitleIsPlainText`.
    public var subtitle: String?
    /// True when the subtitle is plain text (Atom `type="text"`, `itunes:summary`).
    public var subtitleIsPlainText = false
    /// The base the subtitle's relative links resolve against (`xml:base` where it stood).
    public var subtitleBase: String?
    public var language: String?
    public var updated: Date?
    public var author: String?
    public var id: String?
    public var generator: String?
    public var image: String?
    public var entries: [FeedEntry]
    /// Publisher hints for the scheduler: RSS `ttl` (minutes), `sy:updatePeriod` /
    /// `sy:updateFrequency`, `skipHours` (0–23, GMT) and `skipDays` (English day names).
    public var ttlMinutes: Int?
    public var updatePeriod: String?
    public var updateFrequency: Int?
    public var skipHours: [Int] = []
    public var skipDays: [String] = []
    /// RFC 5005 links to older entries: an archived feed's `prev-archive` document and a paged
    /// feed's `next` page (JSON Feed's `next_url`), resolved; what backfill walks.
    public var previousArchive: String?
    public var nextPage: String?
    /// The older-entries document backfill follows: the archive, else the next page.
    public var olderEntriesURL: String? { previousArchive ?? nextPage }
    /// True when the document was not well-formed and was read in recovery mode.
    public var bozo: Bool
    /// What made the document not well-formed, with its line, when `bozo` is true.
    public var bozoReason: String?
    /// The most entries the parser keeps (its caller's limit); nil keeps all.
    public var entryLimit: Int?
    /// Entries past `entryLimit`: counted, not kept.
    public var entriesOmitted = 0

    /// Appends `entry`, or only counts it once `entryLimit` entries are kept.
    public mutating func append(entry: FeedEntry) {
        if let entryLimit, entries.count >= entryLimit {
            entriesOmitted += 1
        } else {
            entries.append(entry)
        }
    }

    public init(
        format: FeedFormat = .unknown, title: String? = nil, link: String? = nil,
        subtitle: String? = nil, language: String? = nil, updated: Date? = nil,
        author: String? = nil, id: String? = nil, generator: String? = nil, image: String? = nil,
        entries: [FeedEntry] = [], bozo: Bool = false, bozoReason: String? = nil
    ) {
        self.format = format
        self.title = title
        self.link = link
        self.subtitle = subtitle
        self.language = language
        self.updated = updated
        self.author = author
        self.id = id
        self.generator = generator
        self.image = image
        self.entries = entries
        self.bozo = bozo
        self.bozoReason = bozoReason
    }
}
