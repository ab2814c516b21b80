import FeedConfig
import FeedModel
import Foundation
import StateStore

/// A poll either ends before storing anything (a failure, not modified, not due) or has a
/// parsed document whose stories are to be decided.
public enum PollOutcome: Sendable {
    case finished(FeedRunReport)
    case parsed(ParsedPoll)
}

/// A fetched and parsed feed with its article pages, waiting for its turn to be stored.
public struct ParsedPoll: Sendable {
    public internal(set) var feed: FeedSource
    public internal(set) var feedID: Int64
    public internal(set) var language: String?
    /// Every entry's key, and the entries not seen before, oldest first.
    public internal(set) var keys: [String]
    public internal(set) var entries: [PreparedEntry]
    public internal(set) var http: FeedHTTPState
    public internal(set) var report: FeedRunReport
    public internal(set) var previouslyRead: Bool
    /// The schedule before this poll's outcome (the base of the next one, or of an error backoff).
    public internal(set) var before: FeedSchedule
    public internal(set) var polledAt: Date
    public internal(set) var scheduler: PollScheduler
    /// What the document tells the scheduler (its window overflow is known once it is stored).
    public internal(set) var observation: PollScheduler.Observation
    /// A regular poll's starting points for a backfill, should the poll overflow (or seed one).
    public internal(set) var backfillStart: BackfillStart?
    /// Set when these entries come from a backfill, not from a poll of the feed's document.
    public internal(set) var backfillBatch: BackfillBatch?

    /// The next schedule, given whether the feed's window overflowed (every entry was new).
    public func nextSchedule(windowOverflow overflow: Bool) -> FeedSchedule {
        var observation = self.observation
        observation.windowOverflow = overflow
        var next = scheduler.afterSuccess(before, feed: feed, now: polledAt, observation: observation)
        if overflow { next.windowOverflows += 1 }
        return next
    }
}

/// What a poll's document offers a backfill: its link to older entries and the site its
/// entries are on.
public struct BackfillStart: Sendable {
    var settings: BackfillSettings
    /// The document's RFC 5005 `prev-archive` (else `next`) link.
    var olderEntriesURL: String?
    var scope: BackfillScope?
    /// The oldest entry date in the document: later stories of the site not in it are not the feed's.
    var oldestEntry: Date?
}

/// A backfill's batch of entries: how they were found, and the job's state once they are stored.
public struct BackfillBatch: Sendable {
    var via: StoryVia
    var job: BackfillJob
}
