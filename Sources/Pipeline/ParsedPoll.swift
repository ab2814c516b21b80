import FeedConfig
import Foundation
import StateStore

/// A poll either ends before storing anything (a failure, not modified, not due) or has a
/// parsed document whose stories are to be decided.
enum PollOutcome: Sendable {
    case finished(FeedRunReport)
    case parsed(ParsedPoll)
}

/// A fetched and parsed feed with its article pages, waiting for its turn to be stored.
struct ParsedPoll: Sendable {
    var feed: FeedSource
    var feedID: Int64
    var language: String?
    /// Every entry's key, and the entries not seen before, oldest first.
    var keys: [String]
    var entries: [PreparedEntry]
    var http: FeedHTTPState
    var report: FeedRunReport
    var previouslyRead: Bool
    /// The schedule before this poll's outcome (the base of the next one, or of an error backoff).
    var before: FeedSchedule
    var polledAt: Date
    var scheduler: PollScheduler
    /// What the document tells the scheduler (its window overflow is known once it is stored).
    var observation: PollScheduler.Observation

    /// The next schedule, given whether the feed's window overflowed (every entry was new).
    func nextSchedule(windowOverflow overflow: Bool) -> FeedSchedule {
        var observation = self.observation
        observation.windowOverflow = overflow
        var next = scheduler.afterSuccess(before, feed: feed, now: polledAt, observation: observation)
        if overflow { next.windowOverflows += 1 }
        return next
    }
}
