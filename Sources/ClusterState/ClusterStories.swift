import Foundation
import Logging
import PostgresNIO

/// A story a worker commits: what the corpus writer needs to write it anywhere, and the keys
/// the database keeps unique.
public struct ClusterStory: Sendable, Equatable {
    public var entryKey: String
    /// Hash of the normalised text; unique.
    public var sha256: String
    /// The canonical URL; unique when present.
    public var url: String?
    /// A globally unique entry id (URL, URN, tag); unique when present.
    public var entryID: String?
    /// The manifest line's record, as JSON.
    public var record: String
    /// The story file's contents.
    public var text: String

    public init(entryKey: String, sha256: String, url: String?, entryID: String?, record: String, text: String) {
        self.entryKey = entryKey
        self.sha256 = sha256
        self.url = url
        self.entryID = entryID
        self.record = record
        self.text = text
    }
}

/// A committed story as a materializer reads it.
public struct CommittedStory: Sendable, Equatable {
    public var seq: Int64
    public var feedID: Int64
    public var record: String
    /// nil once every registered copy had it and it was pruned.
    public var text: String?
}

extension ClusterDatabase {
    /// Commits a poll's stories under `lease` and the commit lock, in one transaction with the
    /// lease check and the feed's next schedule; returns their commit sequence numbers. A unique
    /// key already taken (same text, URL, global id or entry) fails the whole commit.
    public func commitStories(_ stories: [ClusterStory], under lease: FeedLease, nextPollAt: Date,
                              result: String = "ok") async throws(ClusterStateError) -> (seqs: [Int64], lockHeld: Duration) {
        try await finish(lease, nextPollAt: nextPollAt, result: result) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockSpace), \(Self.commitLockKey))", logger: logger)
            let locked = ContinuousClock.now
            var seqs: [Int64] = []
            for story in stories {
                let rows = try await connection.query("""
                    INSERT INTO stories(feed_id, entry_key, sha256, url, entry_id, record, text)
                    VALUES(\(lease.feedID), \(story.entryKey), \(story.sha256), \(story.url), \(story.entryID), \(story.record), \(story.text))
                    RETURNING seq
                    """, logger: logger)
                for try await seq in rows.decode(Int64.self) { seqs.append(seq) }
            }
            return (seqs, ContinuousClock.now - locked)
        }
    }

    /// Committed stories after `seq`, in commit order (a materializer's next batch, or the
    /// stories a worker's dedupe indexes have not seen yet).
    public func stories(after seq: Int64, limit: Int) async throws(ClusterStateError) -> [CommittedStory] {
        try await perform("read the stories after \(seq)") {
            var stories: [CommittedStory] = []
            let rows = try await client.query("""
                SELECT seq, feed_id, record, text FROM stories WHERE seq > \(seq) ORDER BY seq LIMIT \(limit)
                """, logger: logger)
            for try await (seq, feed, record, text) in rows.decode((Int64, Int64, String, String?).self) {
                stories.append(CommittedStory(seq: seq, feedID: feed, record: record, text: text))
            }
            return stories
        }
    }

    /// Registers a corpus copy (a materializer's) at position 0 if it is new; returns its position.
    public func registerCopy(_ name: String) async throws(ClusterStateError) -> Int64 {
        try await perform("register corpus copy \(name)") {
            try await client.query("INSERT INTO corpus_copies(name) VALUES(\(name)) ON CONFLICT(name) DO NOTHING", logger: logger)
            for try await position in try await client.query("SELECT position FROM corpus_copies WHERE name = \(name)", logger: logger).decode(Int64.self) {
                return position
            }
            return 0
        }
    }

    /// Records that copy `name` has every story up to `seq` on disk (it never moves back).
    public func advance(copy name: String, to seq: Int64) async throws(ClusterStateError) {
        try await perform("advance corpus copy \(name)") {
            try await client.query("""
                UPDATE corpus_copies SET position = greatest(position, \(seq)), updated_at = clock_timestamp() WHERE name = \(name)
                """, logger: logger)
        }
    }

    /// Empties the texts every registered copy has; returns how many. Without a registered copy
    /// nothing is pruned.
    @discardableResult
    public func pruneTexts() async throws(ClusterStateError) -> Int {
        try await perform("prune materialized texts") {
            let rows = try await client.query("""
                WITH done AS (SELECT min(position) AS upto FROM corpus_copies)
                UPDATE stories SET text = NULL FROM done WHERE done.upto IS NOT NULL AND seq <= done.upto AND text IS NOT NULL
                RETURNING seq
                """, logger: logger)
            var count = 0
            for try await _ in rows.decode(Int64.self) { count += 1 }
            return count
        }
    }
}
