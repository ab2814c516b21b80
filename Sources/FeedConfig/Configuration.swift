import Foundation

/// How story files are arranged below the corpus root (`layout:` in the config).
public enum LayoutSetting: String, Sendable, CaseIterable {
    case daily, flat
}

/// One configured feed.
public struct FeedSource: Sendable, Equatable {
    /// The URL as configured after resolving a bare path to `file://`: the feed's identity.
    public var url: String
    /// A short name used in output and the manifest's `feed` field.
    public var name: String
    /// A free-form category (from `category:` or the OPML outline the feed was listed under).
    public var category: String?
    /// Per-feed bounds on the polling interval, seconds (nil: the global ones).
    public var minInterval: Double?
    public var maxInterval: Double?
    /// When to fetch the article page for the full text (`fulltext:`).
    public var fullText: FullTextPolicy = .auto
    /// This feed's backfill settings (`backfill:` on the feed over the global `backfill:`); nil:
    /// the global ones.
    public var backfill: BackfillSettings?

    public init(url: String, name: String, category: String? = nil, minInterval: Double? = nil, maxInterval: Double? = nil,
                fullText: FullTextPolicy = .auto, backfill: BackfillSettings? = nil) {
        self.fullText = fullText
        self.backfill = backfill
        self.minInterval = minInterval
        self.maxInterval = maxInterval
        self.url = url
        self.name = name
        self.category = category
    }
}

/// When a feed's stories get their text from the article page (`fulltext:` on a feed).
public enum FullTextPolicy: String, Sendable, CaseIterable {
    /// Fetch the page when the feed's text looks like a summary (short, ends in an ellipsis or a
    /// "read more" link, or much shorter than the feed's other entries).
    case auto
    /// Fetch the page for every new story.
    case always
    /// Never fetch pages: the feed's own text is the story.
    case never
}

/// HTTP client settings (`fetch:` in the config).
public struct FetchSettings: Sendable, Equatable {
    public static let defaultUserAgent = "feedcorpus/\(FeedCorpusVersion.string) (+https://github.com/feedcorpus/feedcorpus)"

    public var userAgent = FetchSettings.defaultUserAgent
    /// Whole-transfer limit, seconds.
    public var timeout = 60.0
    public var connectTimeout = 15.0
    /// Limit on the decoded body size, bytes.
    public var maxBodyBytes = 16 * 1024 * 1024
    public var maxConnections = 64
    public var maxConnectionsPerHost = 2
    /// Minimum seconds between two requests to one host (feeds and article pages alike).
    public var hostDelay = 1.0
    /// Transfers slower than this many bytes/s for `lowSpeedTime` seconds are aborted.
    public var lowSpeedLimit = 1024
    public var lowSpeedTime = 30
    /// Explicit proxy (else the standard environment variables apply).
    public var proxy: String?
    /// A PEM file of extra CA certificates to trust.
    public var caBundle: String?
    /// Allow URLs found in feed content, and redirects of feeds, to reach loopback and private
    /// networks.
    public var allowPrivateNetworks = false
    /// Addresses or CIDR ranges that count as public although they are not (`10.0.0.5`,
    /// `192.168.0.0/16`): an intranet news server that article links may reach.
    public var allowedAddresses: [String] = []
    /// Send article pages through `proxy` too (else they go direct so the peer can be checked).
    public var proxyArticlePages = false
    /// Let a local (`file://`) feed's entries link to local pages, from the feed's own folder only.
    public var localPages = false
    /// Error backoff: the first retry waits `backoffBase` seconds, doubling up to `maxBackoff`.
    public var backoffBase = 300.0
    public var maxBackoff = 86_400.0
    /// Obey robots.txt for article pages (fetched once per host and cached for a day).
    public var robotsTxt = true
    /// Limit on an article page's decoded size, bytes.
    public var maxPageBytes = 5 * 1024 * 1024
    /// Seconds extracting one page's text may take before the feed's text is kept instead.
    public var extractTimeout = 30.0
    /// Entries read from one feed document (the first ones, in document order); the rest are
    /// counted and reported. Real feeds carry 10 to 100.
    public var maxEntriesPerFeed = 1000
    /// Article pages fetched for one poll of one feed; the other entries keep the feed's text.
    public var maxPagesPerPoll = 100
    /// Bytes of article pages a pass holds at once (fetched, not yet extracted); further page
    /// fetches wait for room.
    public var maxPageBytesInFlight = 64 * 1024 * 1024

    public init() {}
}

/// What to do with a near duplicate of a stored story (`dedupe.near_duplicates`).
public enum NearDuplicatePolicy: String, Sendable, CaseIterable {
    /// Keep the first version; drop later ones (recorded with the story they duplicate).
    case keepFirst = "keep_first"
    /// Also store a later version that is at least 10 % longer (a fuller update), marked as
    /// superseding the earlier one; shorter later versions are dropped.
    case keepLonger = "keep_longer"
}

/// Recovering the entries that fell out of a feed's window (`backfill:` in the config, globally
/// and per feed): RFC 5005 archive / paged-feed links first, then the site's news sitemaps.
public struct BackfillSettings: Sendable, Equatable {
    /// Backfill after a window overflow.
    public var enabled = true
    /// Also backfill on a feed's first poll (`window_hours` back), to seed its corpus.
    public var seed = false
    /// Documents fetched per backfill: archive pages, robots.txt-listed sitemaps and indexes.
    public var maxPages = 20
    /// Article pages fetched per backfill for sitemap URLs.
    public var maxURLs = 200
    /// How far back a backfill looks, hours: never before the feed's previous poll, nor before
    /// this many hours ago.
    public var windowHours = 72.0

    public init(enabled: Bool = true, seed: Bool = false, maxPages: Int = 20, maxURLs: Int = 200, windowHours: Double = 72) {
        self.enabled = enabled
        self.seed = seed
        self.maxPages = maxPages
        self.maxURLs = maxURLs
        self.windowHours = windowHours
    }
}

/// Caps on all backfills of one pass (`backfill.max_pages_per_pass`, `backfill.max_urls_per_pass`).
public struct BackfillPassLimits: Sendable, Equatable {
    public var maxPages = 100
    public var maxURLs = 500

    public init(maxPages: Int = 100, maxURLs: Int = 500) {
        self.maxPages = maxPages
        self.maxURLs = maxURLs
    }
}

/// Polling schedule bounds (`schedule:` in the config), seconds.
public struct ScheduleSettings: Sendable, Equatable {
    public var minInterval = 300.0
    public var maxInterval = 14_400.0
    /// For a feed whose entries carry no dates.
    public var defaultInterval = 3600.0

    public init() {}
}

/// Duplicate detection and event grouping settings (`dedupe:` in the config).
public struct DedupeSettings: Sendable, Equatable {
    /// Query parameters removed from article URLs; a trailing `*` makes a prefix.
    public var trackingParameters: [String]? = nil
    /// SimHash Hamming distance within which a stored story is a near-duplicate candidate (every
    /// candidate is then verified on its MinHash signature).
    public var nearDuplicateDistance = 3
    /// Estimated five-word-shingle Jaccard similarity from which a candidate is a near duplicate.
    public var nearDuplicateJaccard = 0.6
    /// Estimated share of the shorter text's shingles found in the longer one from which a
    /// candidate is a near duplicate (truncated copies, teasers).
    public var nearDuplicateContainment = 0.8
    public var nearDuplicates = NearDuplicatePolicy.keepFirst
    /// Stories published within this many hours of each other may share an event.
    public var eventWindowHours = 48.0
    /// TF-IDF cosine similarity of names and figures from which two stories share an event.
    public var eventThreshold = 0.27

    public init() {}
}

/// Where metrics are published (`metrics:` in the config). Both are off unless configured.
public struct MetricsSettings: Sendable, Equatable {
    /// `feedcorpus run` serves Prometheus text at /metrics and a health check at /healthz here.
    public var listenHost: String?
    public var listenPort: Int?
    /// After every pass (one-shot runs too) the Prometheus text is written to this file,
    /// atomically (for node_exporter's textfile collector).
    public var textfile: String?

    public init(listenHost: String? = nil, listenPort: Int? = nil, textfile: String? = nil) {
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.textfile = textfile
    }
}

/// The whole configuration, with every relative path resolved against the config file's folder.
public struct Configuration: Sendable, Equatable {
    /// The file it was read from (absolute).
    public var path: String
    public var corpusDirectory: String
    public var layout: LayoutSetting
    /// The SQLite state file (empty in cluster mode).
    public var statePath: String
    /// Cluster mode: the `postgres://` URL of the state several machines share (nil: SQLite).
    public var clusterState: String?
    public var fetch: FetchSettings
    public var dedupe: DedupeSettings
    public var schedule: ScheduleSettings
    public var feeds: [FeedSource]
    /// A shell command run after each pass that stored stories, their paths on its standard input.
    public var onNewStories: String?
    /// Seconds the hook may run before it is stopped.
    public var onNewStoriesTimeout: Double = 60
    public var metrics = MetricsSettings()
    /// The global backfill settings (a feed's own `backfill:` replaces them for that feed).
    public var backfill = BackfillSettings()
    public var backfillPerPass = BackfillPassLimits()

    /// The backfill settings that apply to `feed`.
    public func backfill(for feed: FeedSource) -> BackfillSettings {
        feed.backfill ?? backfill
    }

    public init(path: String, corpusDirectory: String, layout: LayoutSetting = .daily, statePath: String,
                fetch: FetchSettings = FetchSettings(), dedupe: DedupeSettings = DedupeSettings(),
                schedule: ScheduleSettings = ScheduleSettings(), feeds: [FeedSource]) {
        self.dedupe = dedupe
        self.schedule = schedule
        self.path = path
        self.corpusDirectory = corpusDirectory
        self.layout = layout
        self.statePath = statePath
        self.fetch = fetch
        self.feeds = feeds
    }
}

/// The program's version, shown by `--version` and in the default User-Agent.
public enum FeedCorpusVersion {
    public static let string = "0.1.0"
}
