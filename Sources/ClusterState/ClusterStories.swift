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
    /// The body (`ClusterStoreTransaction.stageBodies`) holding `text` and `shingles`, written
    /// earlier in the same transaction; nil: they are written with the story.
    public var bodyID: Int64?

    public init(entryKey: String, sha256: String, url: String?, entryID: String?, record: String, text: String,
                fingerprint: ClusterFingerprint? = nil, shingles: [UInt64]? = nil, bodyID: Int64? = nil) {
        self.shingles = shingles
        self.bodyID = bodyID
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
                SELECT s.seq, s.feed_id, s.record, coalesce(b.text, s.text) FROM stories s LEFT JOIN story_bodies b ON b.id = s.body_id
                WHERE s.seq > \(seq) ORDER BY s.seq LIMIT \(limit)
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
            try await client.withTransaction(logger: logger) { connection in
                var count = 0
                let bodies = try await connection.query("""
                    WITH done AS (SELECT min(position) AS upto FROM corpus_copies)
                    UPDATE story_bodies b SET text = NULL FROM stories s, done
                    WHERE done.upto IS NOT NULL AND s.seq <= done.upto AND s.body_id = b.id AND b.text IS NOT NULL
                    RETURNING s.seq
                    """, logger: logger)
                for try await _ in bodies.decode(Int64.self) { count += 1 }
                let inline = try await connection.query("""
                    WITH done AS (SELECT min(position) AS upto FROM corpus_copies)
                    UPDATE stories SET text = NULL FROM done WHERE done.upto IS NOT NULL AND seq <= done.upto AND text IS NOT NULL
                    RETURNING seq
                    """, logger: logger)
                for try await _ in inline.decode(Int64.self) { count += 1 }
                return count
            }
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

/// `ClusterDatabase.write`'s statement, prepared on each connection the first time it runs there.
struct PollWriteStatement: PostgresPreparedStatement {
    typealias Row = (Int64?, String)
    /// The text every poll's statement has (that of an empty poll's).
    static let sql = ClusterDatabase.writeQuery(ClusterPollCommit(nextPollAt: Date(timeIntervalSince1970: 0)), feedID: 0).sql
    let query: PostgresQuery

    func makeBindings() throws -> PostgresBindings { query.binds }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
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
    /// Bodies staged in this transaction that no committed story uses (deleted with the commit).
    public var unusedBodyIDs: [Int64]

    public init(stories: [ClusterStory] = [], duplicates: [ClusterDuplicate] = [], emptyEntryKeys: [String] = [],
                nextPollAt: Date, result: String = "ok", httpState: String? = nil, schedule: String? = nil, unusedBodyIDs: [Int64] = []) {
        self.unusedBodyIDs = unusedBodyIDs
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
        try await storePoll(under: lease) { transaction in
            if !poll.stories.isEmpty || !poll.duplicates.isEmpty { try await transaction.lockCommits() }
            return poll
        }.seqs
    }

    /// A worker's store step for one poll, in one transaction: the lease is checked (the feed's
    /// row locked), then `decide` reads what it needs through the transaction, taking the commit
    /// lock (`lockCommits()`) once it has read what it can without it, and returns the poll's
    /// commit, which is written (under the lock whenever it holds stories or duplicates) with the
    /// lease's end in one statement. Returns the commit, its stories' sequence numbers and how long
    /// the commit lock was held (grant to the end of COMMIT, as this worker sees it; nil when not
    /// taken). A lost lease commits nothing (`leaseLost`); a unique key already taken fails the commit.
    public func storePoll(under lease: FeedLease,
                          _ decide: (ClusterStoreTransaction) async throws -> ClusterPollCommit) async throws(ClusterStateError)
        -> (commit: ClusterPollCommit, seqs: [Int64], lockHeld: Duration?) {
        let locked = LockTime()
        return try await perform("commit the poll of \(lease.url)") {
            let (commit, seqs) = try await client.withTransaction(logger: logger) { connection in
                try await checkLease(lease, connection: connection)
                let transaction = ClusterStoreTransaction(connection: connection, logger: logger, locked: locked)
                let commit = try await decide(transaction)
                if !commit.stories.isEmpty || !commit.duplicates.isEmpty { try await transaction.lockCommits() }
                let seqs = try await write(commit, under: lease, connection: connection)
                return (commit, seqs)
            }
            return (commit, seqs, locked.instant.map { ContinuousClock.now - $0 })
        }
    }

    /// Writes a poll's stories, duplicates and entries, its feed's validators and schedule, and
    /// ends the lease: one statement whatever their number, so that the commit lock, held
    /// meanwhile, waits for one round trip; a prepared one (`PollWriteStatement`), so that the
    /// server parses and plans it once per connection rather than under the lock at every commit.
    /// Returns the stories' sequence numbers, in order.
    func write(_ poll: ClusterPollCommit, under lease: FeedLease, connection: PostgresConnection) async throws -> [Int64] {
        let stories = poll.stories
        let duplicates = poll.duplicates
        let query = Self.writeQuery(poll, feedID: lease.feedID)
        // Rows: a stored story's sequence number and text hash, or nil and a recorded duplicate's entry key.
        var bySHA: [String: Int64] = [:]
        var recorded = Set<String>()
        func read(_ seq: Int64?, _ value: String) {
            if let seq { bySHA[value] = seq } else { recorded.insert(value) }
        }
        if query.sql == PollWriteStatement.sql {
            for try await (seq, value) in try await connection.execute(PollWriteStatement(query: query), logger: logger) { read(seq, value) }
        } else {
            for try await (seq, value) in try await connection.query(query, logger: logger).decode((Int64?, String).self) { read(seq, value) }
        }
        let seqs = stories.compactMap { bySHA[$0.sha256] }
        guard seqs.count == stories.count else {
            throw ClusterStateError(.query, operation: "commit the poll of \(lease.url)", message: "\(seqs.count) of \(stories.count) stories were inserted")
        }
        if let missing = duplicates.first(where: { !recorded.contains($0.entryKey) }) {
            throw ClusterStateError(.query, operation: "commit the poll of \(lease.url)",
                                    message: "duplicate \(missing.entryKey) names a story that is not stored (sha256 \(missing.duplicateOfSHA256))")
        }
        return seqs
    }

    /// The statement of `write` with its values bound. Its text is the same for every poll (the
    /// values travel as arrays), which is what lets it be prepared once.
    static func writeQuery(_ poll: ClusterPollCommit, feedID: Int64) -> PostgresQuery {
        let stories = poll.stories
        let duplicates = poll.duplicates
        let shingles = stories.map { story in
            var buffer = ByteBuffer()
            buffer.reserveCapacity((story.shingles?.count ?? 0) * 8)
            if story.bodyID == nil { for value in story.shingles ?? [] { buffer.writeInteger(value, endianness: .little) } }
            return buffer
        }
        // Arrays cannot carry NULLs here: absent values travel as '' (or an empty buffer, -1) and
        // become NULL. The statement's parts see the tables as they were before it, so a duplicate
        // of a story of this same poll finds it among the rows `s` inserted.
        return """
            WITH s AS (
                INSERT INTO stories(feed_id, entry_key, sha256, url, entry_id, record, text,
                                    simhash, minhash, lead_minhash, title, event, event_terms, event_at, shingles, text_bytes, body_id)
                SELECT \(feedID), key, sha, nullif(link, ''), nullif(id, ''), record, CASE WHEN body = 0 THEN text END,
                       CASE WHEN has_fingerprint THEN simhash END, CASE WHEN has_fingerprint THEN minhash END,
                       CASE WHEN has_fingerprint THEN lead END, CASE WHEN has_fingerprint THEN title END,
                       CASE WHEN has_fingerprint THEN event END, CASE WHEN has_fingerprint THEN terms END,
                       CASE WHEN has_fingerprint THEN at END, CASE WHEN has_shingles AND body = 0 THEN shingles END, bytes, nullif(body, 0)
                FROM unnest(\(stories.map(\.entryKey)), \(stories.map(\.sha256)), \(stories.map { $0.url ?? "" }),
                            \(stories.map { $0.entryID ?? "" }), \(stories.map(\.record)), \(stories.map { $0.bodyID == nil ? $0.text : "" }),
                            \(stories.map { Int64(bitPattern: $0.fingerprint?.simhash ?? 0) }),
                            \(stories.map { ByteBuffer(bytes: $0.fingerprint?.minhash ?? []) }),
                            \(stories.map { ByteBuffer(bytes: $0.fingerprint?.leadMinhash ?? []) }),
                            \(stories.map { $0.fingerprint?.title ?? "" }), \(stories.map { $0.fingerprint?.event ?? "" }),
                            \(stories.map { $0.fingerprint?.eventTerms ?? "" }), \(stories.map { $0.fingerprint?.eventAt ?? Date(timeIntervalSince1970: 0) }),
                            \(shingles), \(stories.map { $0.shingles != nil }), \(stories.map { Int32(clamping: $0.text.utf8.count) }),
                            \(stories.map { $0.fingerprint != nil }), \(stories.map { $0.bodyID ?? 0 }))
                     WITH ORDINALITY AS s(key, sha, link, id, record, text, simhash, minhash, lead, title, event, terms, at, shingles, has_shingles,
                                          bytes, has_fingerprint, body, ord)
                ORDER BY ord
                RETURNING seq, sha256, entry_key
            ), stored_entries AS (
                INSERT INTO entries(feed_id, entry_key, outcome, story_seq) SELECT \(feedID), entry_key, 'stored', seq FROM s
            ), d AS (
                SELECT * FROM unnest(\(duplicates.map(\.entryKey)), \(duplicates.map { $0.url ?? "" }), \(duplicates.map { $0.title ?? "" }),
                                     \(duplicates.map(\.reason)), \(duplicates.map(\.duplicateOfSHA256)),
                                     \(duplicates.map { Int32(clamping: $0.distance ?? -1) }), \(duplicates.map { $0.similarity ?? -1 }))
                    WITH ORDINALITY AS d(key, link, title, reason, original, distance, similarity, ord)
            ), originals AS (
                SELECT seq, sha256 FROM stories WHERE sha256 = ANY(\(duplicates.map(\.duplicateOfSHA256)))
                UNION ALL SELECT seq, sha256 FROM s
            ), dropped AS (
                INSERT INTO duplicates(feed_id, entry_key, url, title, reason, duplicate_of, distance, similarity)
                SELECT \(feedID), d.key, nullif(d.link, ''), nullif(d.title, ''), d.reason, o.seq, nullif(d.distance, -1), nullif(d.similarity, -1)
                FROM d JOIN originals o ON o.sha256 = d.original ORDER BY d.ord
                RETURNING entry_key, duplicate_of
            ), duplicate_entries AS (
                INSERT INTO entries(feed_id, entry_key, outcome, story_seq)
                SELECT \(feedID), entry_key, 'duplicate', duplicate_of FROM dropped
                ON CONFLICT(feed_id, entry_key) DO UPDATE SET outcome = excluded.outcome, story_seq = excluded.story_seq
                RETURNING entry_key
            ), empty_entries AS (
                INSERT INTO entries(feed_id, entry_key, outcome) SELECT \(feedID), key, 'empty' FROM unnest(\(poll.emptyEntryKeys)) AS e(key)
                ON CONFLICT DO NOTHING
            ), unused_bodies AS (
                DELETE FROM story_bodies WHERE id = ANY(\(poll.unusedBodyIDs))
            ), feed AS (
                UPDATE feeds SET http_state = coalesce(\(poll.httpState), http_state), schedule = coalesce(\(poll.schedule), schedule),
                    lease_owner = NULL, lease_expires = NULL, next_poll_at = \(poll.nextPollAt), last_poll_at = now(),
                    last_result = \(poll.result), last_error = NULL
                WHERE id = \(feedID)
            )
            SELECT seq, sha256 FROM s UNION ALL SELECT NULL, entry_key FROM duplicate_entries
            """
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
