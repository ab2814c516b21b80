import Foundation

/// What one poll of one feed changes in the state, committed in one transaction after the
/// corpus files are durable.
public struct FeedPollCommit: Sendable {
    public var feedID: Int64
    public var polledAt: Date
    /// `ok`, `not_modified`, `error` (counts towards backoff) or `held` (the host asked to wait).
    public var result: PollResult
    public var error: String?
    public var http: FeedHTTPState?
    public var stored: [StoryCommit]
    public var duplicates: [DuplicateRecord]
    /// New entries that gave no text at all; remembered so they are not reconsidered.
    public var emptyEntryKeys: [String]
    /// The feed's new schedule; nil leaves it as it is.
    public var schedule: FeedSchedule?
    /// False for a backfill's commit: its stories and entries are recorded, the feed's poll
    /// outcome, validators and schedule are left as they are, and its stored stories are
    /// counted as backfilled.
    public var recordsPoll = true
    public var backfill: BackfillChange?

    public init(feedID: Int64, polledAt: Date, result: PollResult, error: String? = nil, http: FeedHTTPState? = nil,
                stored: [StoryCommit] = [], duplicates: [DuplicateRecord] = [],
                emptyEntryKeys: [String] = [], schedule: FeedSchedule? = nil, recordsPoll: Bool = true, backfill: BackfillChange? = nil) {
        self.recordsPoll = recordsPoll
        self.backfill = backfill
        self.schedule = schedule
        self.feedID = feedID
        self.polledAt = polledAt
        self.result = result
        self.error = error
        self.http = http
        self.stored = stored
        self.duplicates = duplicates
        self.emptyEntryKeys = emptyEntryKeys
    }
}
