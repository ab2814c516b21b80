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
    /// What the other workers' dedupe indexes take from it when they catch up.
    public var fingerprint: ClusterFingerprint?
    /// Its distinct prose shingles (`TextFingerprint.proseShingles`), sorted: what the exact
    /// check of a later near-duplicate candidate compares, kept after the text is pruned.
    public var shingles: [UInt64]?

    public init(entryKey: String, sha256: String, url: String?, entryID: String?, record: String, text: String,
                fingerprint: ClusterFingerprint? = nil, shingles: [UInt64]? = nil) {
        self.shingles = shingles
        self.entryKey = entryKey
        self.sha256 = sha256
        self.url = url
        self.entryID = entryID
        self.record = record
        self.text = text
        self.fingerprint = fingerprint
    }
}

/// A committed story's fingerprints, as the near-duplicate indexes and the event grouper of every
/// worker hold them: a worker reads those committed since it last looked before it decides.
public struct ClusterFingerprint: Sendable, Equatable {
    public var simhash: UInt64
    /// MinHash signatures of the whole text and of its lead, as `MinHashSignature.bytes`.
    public var minhash: [UInt8]
    public var leadMinhash: [UInt8]
    public var title: String
    public var event: String
    /// `EventTerms.serialized`.
    public var eventTerms: String
    /// The story's instant for event grouping.
    public var eventAt: Date

    public init(simhash: UInt64, minhash: [UInt8], leadMinhash: [UInt8], title: String, event: String, eventTerms: String, eventAt: Date) {
        self.simhash = simhash
        self.minhash = minhash
        self.leadMinhash = leadMinhash
        self.title = title
        self.event = event
        self.eventTerms = eventTerms
        self.eventAt = eventAt
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

    /// The fingerprints of the stories committed after `seq`, in commit order, with their
    /// sequence numbers (stories committed without fingerprints are left out).
    public func fingerprints(after seq: Int64, limit: Int) async throws(ClusterStateError) -> [(seq: Int64, fingerprint: ClusterFingerprint)] {
        try await perform("read the fingerprints after \(seq)") {
            try await client.withConnection { connection in
                try await ClusterStoreTransaction(connection: connection, logger: logger).fingerprints(after: seq, limit: limit)
            }
        }
    }

    /// The sequence number of the last committed story (0 when none).
    public func latestStorySeq() async throws(ClusterStateError) -> Int64 {
        try await perform("read the last story's sequence number") {
            for try await seq in try await client.query("SELECT coalesce(max(seq), 0) FROM stories", logger: logger).decode(Int64.self) {
                return seq
            }
            return 0
        }
    }

    /// Every registered corpus copy and how far it got, by name.
    public func copies() async throws(ClusterStateError) -> [String: Int64] {
        try await perform("read the corpus copies") {
            var copies: [String: Int64] = [:]
            for try await (name, position) in try await client.query("SELECT name, position FROM corpus_copies", logger: logger).decode((String, Int64).self) {
                copies[name] = position
            }
            return copies
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

/// A dropped duplicate as a poll's commit records it: the stored story it repeats is named by
/// that story's text hash (it may be stored in the same commit).
public struct ClusterDuplicate: Sendable, Equatable {
    public var entryKey: String
    public var url: String?
    public var title: String?
    /// `same_url`, `same_id`, `same_text`, `near_text`.
    public var reason: String
    public var duplicateOfSHA256: String
    public var distance: Int?
    public var similarity: Double?

    public init(entryKey: String, url: String?, title: String?, reason: String, duplicateOfSHA256: String,
                distance: Int? = nil, similarity: Double? = nil) {
        self.entryKey = entryKey
        self.url = url
        self.title = title
        self.reason = reason
        self.duplicateOfSHA256 = duplicateOfSHA256
        self.distance = distance
        self.similarity = similarity
    }
}

/// Everything one poll of one feed commits.
public struct ClusterPollCommit: Sendable, Equatable {
    public var stories: [ClusterStory]
    public var duplicates: [ClusterDuplicate]
    /// Entries that gave no text: remembered so they are not reconsidered.
    public var emptyEntryKeys: [String]
    public var nextPollAt: Date
    public var result: String
    /// The feed's validators and schedule after this poll, as the polling code keeps them (JSON;
    /// nil keeps what the state has).
    public var httpState: String?
    public var schedule: String?

    public init(stories: [ClusterStory] = [], duplicates: [ClusterDuplicate] = [], emptyEntryKeys: [String] = [],
                nextPollAt: Date, result: String = "ok", httpState: String? = nil, schedule: String? = nil) {
        self.stories = stories
        self.duplicates = duplicates
        self.emptyEntryKeys = emptyEntryKeys
        self.nextPollAt = nextPollAt
        self.result = result
        self.httpState = httpState
        self.schedule = schedule
    }
}

extension ClusterDatabase {
    /// Commits a whole poll under `lease`: its stories (under the commit lock, when there are
    /// any), its duplicates, every new entry with its outcome, the feed's validators, schedule and next poll, in one
    /// transaction that first checks the lease. Returns the stories' sequence numbers.
    public func commitPoll(_ poll: ClusterPollCommit, under lease: FeedLease) async throws(ClusterStateError) -> [Int64] {
        try await finish(lease, nextPollAt: poll.nextPollAt, result: poll.result) { connection in
            if !poll.stories.isEmpty || !poll.duplicates.isEmpty {
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockSpace), \(Self.commitLockKey))", logger: logger)
            }
            return try await insert(poll, feedID: lease.feedID, url: lease.url, connection: connection)
        }
    }

    /// A worker's store step for one poll, in one transaction: the lease is checked (the feed's
    /// row locked), then, when `decides` (the poll has new entries), the commit lock is taken, so
    /// that `decide` sees every story committed before and none is committed until this one is;
    /// `decide` reads what it needs through the transaction and returns the poll's commit, which
    /// is inserted; the lease ends. Returns the commit, its stories' sequence numbers and how
    /// long the commit lock was held (grant to the end of COMMIT, as this worker sees it). A
    /// lost lease commits nothing (`leaseLost`); a unique key already taken fails the commit.
    public func storePoll(under lease: FeedLease, decides: Bool,
                          _ decide: (ClusterStoreTransaction) async throws -> ClusterPollCommit) async throws(ClusterStateError)
        -> (commit: ClusterPollCommit, seqs: [Int64], lockHeld: Duration?) {
        try await perform("commit the poll of \(lease.url)") {
            let (commit, seqs, locked) = try await client.withTransaction(logger: logger) { connection in
                try await checkLease(lease, connection: connection)
                var locked: ContinuousClock.Instant?
                if decides {
                    try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockSpace), \(Self.commitLockKey))", logger: logger)
                    locked = .now
                }
                let commit = try await decide(ClusterStoreTransaction(connection: connection, logger: logger))
                let seqs = try await insert(commit, feedID: lease.feedID, url: lease.url, connection: connection)
                try await endLease(lease, nextPollAt: commit.nextPollAt, result: commit.result, error: nil, connection: connection)
                return (commit, seqs, locked)
            }
            return (commit, seqs, locked.map { ContinuousClock.now - $0 })
        }
    }

    /// Inserts a poll's stories, duplicates and entries, and its feed's validators and schedule.
    func insert(_ poll: ClusterPollCommit, feedID: Int64, url: String, connection: PostgresConnection) async throws -> [Int64] {
        var seqs: [Int64] = []
        for story in poll.stories {
            let fingerprint = story.fingerprint
            let shingles = story.shingles.map { values in
                var buffer = ByteBuffer()
                buffer.reserveCapacity(values.count * 8)
                for value in values { buffer.writeInteger(value, endianness: .little) }
                return buffer
            }
            let rows = try await connection.query("""
                INSERT INTO stories(feed_id, entry_key, sha256, url, entry_id, record, text,
                                    simhash, minhash, lead_minhash, title, event, event_terms, event_at, shingles, text_bytes)
                VALUES(\(feedID), \(story.entryKey), \(story.sha256), \(story.url), \(story.entryID), \(story.record), \(story.text),
                       \(fingerprint.map { Int64(bitPattern: $0.simhash) }), \(fingerprint.map { ByteBuffer(bytes: $0.minhash) }),
                       \(fingerprint.map { ByteBuffer(bytes: $0.leadMinhash) }), \(fingerprint?.title), \(fingerprint?.event), \(fingerprint?.eventTerms),
                       \(fingerprint?.eventAt), \(shingles), \(Int32(clamping: story.text.utf8.count)))
                RETURNING seq
                """, logger: logger)
            for try await seq in rows.decode(Int64.self) { seqs.append(seq) }
            try await connection.query("""
                INSERT INTO entries(feed_id, entry_key, outcome, story_seq) VALUES(\(feedID), \(story.entryKey), 'stored', \(seqs.last))
                """, logger: logger)
        }
        for duplicate in poll.duplicates {
            let rows = try await connection.query("""
                INSERT INTO duplicates(feed_id, entry_key, url, title, reason, duplicate_of, distance, similarity)
                SELECT \(feedID), \(duplicate.entryKey), \(duplicate.url), \(duplicate.title), \(duplicate.reason), seq,
                       \(duplicate.distance.map(Int32.init(clamping:))), \(duplicate.similarity)
                FROM stories WHERE sha256 = \(duplicate.duplicateOfSHA256)
                RETURNING duplicate_of
                """, logger: logger)
            var original: Int64?
            for try await seq in rows.decode(Int64.self) { original = seq }
            guard let original else {
                throw ClusterStateError(.query, operation: "commit the poll of \(url)",
                                        message: "duplicate \(duplicate.entryKey) names a story that is not stored (sha256 \(duplicate.duplicateOfSHA256))")
            }
            try await connection.query("""
                INSERT INTO entries(feed_id, entry_key, outcome, story_seq) VALUES(\(feedID), \(duplicate.entryKey), 'duplicate', \(original))
                ON CONFLICT(feed_id, entry_key) DO UPDATE SET outcome = excluded.outcome, story_seq = excluded.story_seq
                """, logger: logger)
        }
        if poll.httpState != nil || poll.schedule != nil {
            try await connection.query("""
                UPDATE feeds SET http_state = coalesce(\(poll.httpState), http_state), schedule = coalesce(\(poll.schedule), schedule)
                WHERE id = \(feedID)
                """, logger: logger)
        }
        for key in poll.emptyEntryKeys {
            try await connection.query("""
                INSERT INTO entries(feed_id, entry_key, outcome) VALUES(\(feedID), \(key), 'empty') ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        return seqs
    }

    /// The URLs among `urls` that are stored stories' (canonical URLs).
    public func storedURLs(among urls: [String]) async throws(ClusterStateError) -> Set<String> {
        guard !urls.isEmpty else { return [] }
        return try await perform("look up stored URLs") {
            var stored = Set<String>()
            for try await url in try await client.query("SELECT url FROM stories WHERE url = ANY(\(urls))", logger: logger).decode(String.self) {
                stored.insert(url)
            }
            return stored
        }
    }

    /// The keys among `keys` that the feed has shown before.
    public func seenEntryKeys(feedID: Int64, among keys: [String]) async throws(ClusterStateError) -> Set<String> {
        guard !keys.isEmpty else { return [] }
        return try await perform("read the seen entries of feed \(feedID)") {
            try await client.withConnection { connection in
                try await ClusterStoreTransaction(connection: connection, logger: logger).seenEntryKeys(feedID: feedID, among: keys)
            }
        }
    }
}
