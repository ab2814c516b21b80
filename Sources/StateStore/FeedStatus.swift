import Foundation

/// Everything `feedcorpus status` shows about one feed.
public struct FeedStatus: Sendable, Equatable {
    public var url: String
    public var name: String
    public var lastPollAt: Date?
    public var lastResult: PollResult?
    public var lastError: String?
    public var consecutiveErrors: Int
    public var nextPollAt: Date?
    public var pollInterval: TimeInterval?
    public var disabledReason: String?
    public var fetchURL: String?
    public var windowOverflows: Int
    public var storiesStored: Int
    public var duplicatesDropped: Int
    /// Stories recovered by backfill (included in `storiesStored`).
    public var backfilledStories = 0
    /// When the last backfill ended and what it found; whether one is under way.
    public var lastBackfillAt: Date?
    public var lastBackfill: String?
    public var backfillPending = false

    public init(url: String, name: String, lastPollAt: Date? = nil, lastResult: PollResult? = nil, lastError: String? = nil,
                consecutiveErrors: Int, nextPollAt: Date? = nil, pollInterval: TimeInterval? = nil, disabledReason: String? = nil,
                fetchURL: String? = nil, windowOverflows: Int, storiesStored: Int, duplicatesDropped: Int) {
        self.url = url
        self.name = name
        self.lastPollAt = lastPollAt
        self.lastResult = lastResult
        self.lastError = lastError
        self.consecutiveErrors = consecutiveErrors
        self.nextPollAt = nextPollAt
        self.pollInterval = pollInterval
        self.disabledReason = disabledReason
        self.fetchURL = fetchURL
        self.windowOverflows = windowOverflows
        self.storiesStored = storiesStored
        self.duplicatesDropped = duplicatesDropped
    }
}

/// The outcome of a feed's most recent poll.
public struct FeedPollStatus: Sendable, Equatable {
    public var lastResult: PollResult?
    public var lastError: String?
    public var consecutiveErrors: Int

    public init(lastResult: PollResult?, lastError: String?, consecutiveErrors: Int) {
        self.lastResult = lastResult
        self.lastError = lastError
        self.consecutiveErrors = consecutiveErrors
    }
}
