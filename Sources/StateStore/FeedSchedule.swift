import Foundation

/// Where and when a feed is polled next, as the fetcher's outcomes decide it.
public struct FeedSchedule: Sendable, Equatable, Codable {
    /// The URL polled instead of the configured one after a confirmed permanent redirect.
    public var fetchURL: String?
    /// A permanent redirect target seen but not yet confirmed, and how often it was seen.
    public var pendingRedirect: String?
    public var pendingRedirectCount: Int
    /// Not before this instant (error backoff, Retry-After); nil: whenever the scheduler likes.
    public var nextPollAt: Date?
    /// Why the feed is no longer polled (HTTP 410 Gone), if it is not.
    public var disabledReason: String?
    /// Cache-Control max-age / Expires of the last response, seconds.
    public var freshnessLifetime: TimeInterval?
    public var consecutiveErrors: Int
    /// The interval the scheduler last chose, seconds.
    public var pollInterval: TimeInterval?
    /// How often a poll found only unknown entries in a full document (entries may have been missed).
    public var windowOverflows: Int

    public init(fetchURL: String? = nil, pendingRedirect: String? = nil, pendingRedirectCount: Int = 0, nextPollAt: Date? = nil,
                disabledReason: String? = nil, freshnessLifetime: TimeInterval? = nil, consecutiveErrors: Int = 0,
                pollInterval: TimeInterval? = nil, windowOverflows: Int = 0) {
        self.pollInterval = pollInterval
        self.windowOverflows = windowOverflows
        self.fetchURL = fetchURL
        self.pendingRedirect = pendingRedirect
        self.pendingRedirectCount = pendingRedirectCount
        self.nextPollAt = nextPollAt
        self.disabledReason = disabledReason
        self.freshnessLifetime = freshnessLifetime
        self.consecutiveErrors = consecutiveErrors
    }
}
