import Foundation

/// What one pass did of one feed's backfill.
public struct BackfillReport: Sendable, Equatable {
    public var name: String
    public var url: String
    public var storedViaArchive = 0
    public var storedViaSitemap = 0
    public var duplicates = 0
    /// The dropped duplicates by reason (`same_url`, `same_id`, `same_text`, `near_text`).
    public var duplicatesByReason: [String: Int] = [:]
    /// Documents fetched: archive pages and sitemaps.
    public var documentsFetched = 0
    /// Article pages fetched for sitemap URLs.
    public var urlsFetched = 0
    /// The stored files, relative to the corpus root (for `on_new_stories`).
    public var storedFiles: [String] = []
    /// Set when the backfill ended in this pass: what `status` shows of it.
    public var result: String?
    /// Set when it stopped for now and continues at the next pass: why.
    public var paused: String?

    public init(name: String, url: String) {
        self.name = name
        self.url = url
    }

    public var stored: Int { storedViaArchive + storedViaSitemap }
}
