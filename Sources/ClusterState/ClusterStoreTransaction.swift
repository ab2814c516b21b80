import Foundation
import Logging
import PostgresNIO

/// A stored story as the exact-key steps of dedupe find it.
public struct ClusterStoredKeys: Sendable, Equatable {
    public var seq: Int64
    public var sha256: String
    public var url: String?
    public var entryID: String?
}

/// What the exact check of a near-duplicate candidate compares of a stored story, kept when its
/// text is pruned: its headline, prose shingles and size.
public struct ClusterComparable: Sendable, Equatable {
    public var seq: Int64
    public var sha256: String
    public var headline: String
    /// Sorted distinct prose shingles; nil for a story committed without them.
    public var shingles: [UInt64]?
    /// The text, when it is still in the state (for stories committed without shingles).
    public var text: String?
    /// Bytes of the story's file.
    public var textBytes: Int?
}

/// A story committed since a worker last looked, with what its store step needs of it under the
/// commit lock: fingerprints for the indexes and exact keys (what the exact check compares is read
/// apart, for the candidates only: `comparables`).
public struct ClusterCommittedStory: Sendable {
    public var fingerprint: ClusterFingerprint
    public var keys: ClusterStoredKeys
}

/// The reads of a worker's store step, inside its transaction. Reads before `lockCommits()` see
/// what was committed when they ran; after it, every story committed before, and none commits
/// until this transaction ends.
public struct ClusterStoreTransaction: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    let locked: LockTime

    init(connection: PostgresConnection, logger: Logger, locked: LockTime = LockTime()) {
        self.connection = connection
        self.logger = logger
        self.locked = locked
    }

    /// Takes the cluster's commit lock for the rest of the transaction (once; later calls do nothing).
    public func lockCommits() async throws {
        guard locked.instant == nil else { return }
        try await connection.query("SELECT pg_advisory_xact_lock(\(ClusterDatabase.lockSpace), \(ClusterDatabase.commitLockKey))", logger: logger)
        locked.instant = .now
    }

    /// Takes the commit lock (as `lockCommits()`) and reads every story committed after `seq`
    /// (as `committed(after:)`) in one round trip. The lock's hold is counted from the grant (the
    /// call's start plus the server's wait).
    public func lockCommitsReadingCommitted(after seq: Int64) async throws -> [ClusterCommittedStory] {
        let sent = ContinuousClock.now
        var result: [ClusterCommittedStory] = []
        let rows = try await connection.query("SELECT * FROM feedcorpus_lock_commits(\(seq))", logger: logger)
        for try await (waited, seq, simhash, minhash, lead, title, event, terms, at, sha256, url, entryID)
            in rows.decode((Int64?, Int64?, Int64?, ByteBuffer?, ByteBuffer?, String?, String?, String?, Date?, String?, String?, String?).self) {
            if let waited {
                if locked.instant == nil { locked.instant = sent + .microseconds(waited) }
                continue
            }
            guard let seq, let simhash, let minhash, let lead, let title, let event, let terms, let at, let sha256 else { continue }
            let fingerprint = Self.fingerprint(simhash: simhash, minhash: minhash, lead: lead, title: title, event: event, terms: terms, at: at)
            result.append(ClusterCommittedStory(fingerprint: fingerprint, keys: ClusterStoredKeys(seq: seq, sha256: sha256, url: url, entryID: entryID)))
        }
        if locked.instant == nil { locked.instant = sent }
        return result
    }

    /// Every story committed after `seq`, in commit order, with its fingerprints and keys (what
    /// a worker reads under the lock: the few stories committed since it caught up before taking
    /// it). Stories without fingerprints are left out.
    public func committed(after seq: Int64) async throws -> [ClusterCommittedStory] {
        var result: [ClusterCommittedStory] = []
        let rows = try await connection.query("""
            SELECT seq, simhash, minhash, lead_minhash, title, event, event_terms, event_at, sha256, url, entry_id
            FROM stories WHERE seq > \(seq) AND simhash IS NOT NULL ORDER BY seq
            """, logger: logger)
        for try await (seq, simhash, minhash, lead, title, event, terms, at, sha256, url, entryID)
            in rows.decode((Int64, Int64, ByteBuffer, ByteBuffer, String, String, String, Date, String, String?, String?).self) {
            let fingerprint = Self.fingerprint(simhash: simhash, minhash: minhash, lead: lead, title: title, event: event, terms: terms, at: at)
            result.append(ClusterCommittedStory(fingerprint: fingerprint, keys: ClusterStoredKeys(seq: seq, sha256: sha256, url: url, entryID: entryID)))
        }
        return result
    }

    /// Writes the texts and shingles of stories this step may commit, before it takes the commit
    /// lock, so that the lock covers the small rows only; returns the bodies' ids with their text
    /// hashes. The commit names the bodies its stories use (`ClusterStory.bodyID`) and deletes the
    /// others (`ClusterPollCommit.unusedBodyIDs`).
    public func stageBodies(_ bodies: [(sha256: String, text: String, shingles: [UInt64]?)]) async throws -> [(id: Int64, sha256: String)] {
        guard !bodies.isEmpty else { return [] }
        let shingles = bodies.map { body in
            var buffer = ByteBuffer()
            buffer.reserveCapacity((body.shingles?.count ?? 0) * 8)
            for value in body.shingles ?? [] { buffer.writeInteger(value, endianness: .little) }
            return buffer
        }
        let rows = try await connection.query("""
            INSERT INTO story_bodies(sha256, text, shingles)
            SELECT sha, text, CASE WHEN has_shingles THEN shingles END
            FROM unnest(\(bodies.map(\.sha256)), \(bodies.map(\.text)), \(shingles), \(bodies.map { $0.shingles != nil }))
                AS b(sha, text, shingles, has_shingles)
            RETURNING id, sha256
            """, logger: logger)
        var ids: [(id: Int64, sha256: String)] = []
        for try await (id, sha256) in rows.decode((Int64, String).self) { ids.append((id, sha256)) }
        return ids
    }

    /// A fingerprint as the stories table's columns hold it.
    static func fingerprint(simhash: Int64, minhash: ByteBuffer, lead: ByteBuffer, title: String, event: String, terms: String,
                            at: Date) -> ClusterFingerprint {
        ClusterFingerprint(simhash: UInt64(bitPattern: simhash), minhash: Array(minhash.readableBytesView), leadMinhash: Array(lead.readableBytesView),
                           title: title, event: event, eventTerms: terms, eventAt: at)
    }

    static func shingles(_ buffer: ByteBuffer) -> [UInt64] {
        var buffer = buffer
        var list: [UInt64] = []
        list.reserveCapacity(buffer.readableBytes / 8)
        while let value = buffer.readInteger(endianness: .little, as: UInt64.self) { list.append(value) }
        return list
    }

    /// The keys among `keys` that the feed has shown before.
    public func seenEntryKeys(feedID: Int64, among keys: [String]) async throws -> Set<String> {
        guard !keys.isEmpty else { return [] }
        var seen = Set<String>()
        let rows = try await connection.query("""
            SELECT entry_key FROM entries WHERE feed_id = \(feedID) AND entry_key = ANY(\(keys))
            """, logger: logger)
        for try await key in rows.decode(String.self) { seen.insert(key) }
        return seen
    }

    /// The fingerprints of the stories committed after `seq`, in commit order (at most `limit`;
    /// stories committed without fingerprints are left out).
    public func fingerprints(after seq: Int64, limit: Int) async throws -> [(seq: Int64, fingerprint: ClusterFingerprint)] {
        var result: [(seq: Int64, fingerprint: ClusterFingerprint)] = []
        let rows = try await connection.query("""
            SELECT seq, simhash, minhash, lead_minhash, title, event, event_terms, event_at FROM stories
            WHERE seq > \(seq) AND simhash IS NOT NULL ORDER BY seq LIMIT \(limit)
            """, logger: logger)
        for try await (seq, simhash, minhash, lead, title, event, terms, at)
            in rows.decode((Int64, Int64, ByteBuffer, ByteBuffer, String, String, String, Date).self) {
            result.append((seq, Self.fingerprint(simhash: simhash, minhash: minhash, lead: lead, title: title, event: event, terms: terms, at: at)))
        }
        return result
    }

    /// The stored stories with any of these canonical URLs, global entry ids or text hashes.
    public func stories(urls: [String], entryIDs: [String], sha256s: [String]) async throws -> [ClusterStoredKeys] {
        guard !urls.isEmpty || !entryIDs.isEmpty || !sha256s.isEmpty else { return [] }
        var found: [ClusterStoredKeys] = []
        let rows = try await connection.query("""
            SELECT seq, sha256, url, entry_id FROM stories
            WHERE url = ANY(\(urls)) OR entry_id = ANY(\(entryIDs)) OR sha256 = ANY(\(sha256s))
            """, logger: logger)
        for try await (seq, sha256, url, entryID) in rows.decode((Int64, String, String?, String?).self) {
            found.append(ClusterStoredKeys(seq: seq, sha256: sha256, url: url, entryID: entryID))
        }
        return found
    }

    /// A story's shingles, its text when it has no shingles, and its size, from its body or its
    /// own columns (`stories s LEFT JOIN story_bodies b`).
    static let comparableColumns = """
        coalesce(b.shingles, s.shingles), CASE WHEN coalesce(b.shingles, s.shingles) IS NULL THEN coalesce(b.text, s.text) END, s.text_bytes
        """

    /// What the exact check needs of these stored stories, by sequence number.
    public func comparables(_ seqs: [Int64]) async throws -> [Int64: ClusterComparable] {
        guard !seqs.isEmpty else { return [:] }
        var found: [Int64: ClusterComparable] = [:]
        let rows = try await connection.query("""
            SELECT s.seq, s.sha256, coalesce(s.title, ''), \(unescaped: Self.comparableColumns)
            FROM stories s LEFT JOIN story_bodies b ON b.id = s.body_id WHERE s.seq = ANY(\(seqs))
            """, logger: logger)
        for try await (seq, sha256, headline, shingles, text, bytes) in rows.decode((Int64, String, String, ByteBuffer?, String?, Int32?).self) {
            found[seq] = ClusterComparable(seq: seq, sha256: sha256, headline: headline, shingles: shingles.map(Self.shingles), text: text,
                                           textBytes: bytes.map(Int.init))
        }
        return found
    }
}

/// When a transaction took the commit lock (set once, read after the transaction).
final class LockTime: @unchecked Sendable {
    private let lock = NSLock()
    private var value: ContinuousClock.Instant?

    var instant: ContinuousClock.Instant? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
