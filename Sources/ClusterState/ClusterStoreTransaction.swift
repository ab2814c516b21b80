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

/// A story committed since a worker last looked, with everything its store step needs of it:
/// fingerprints for the indexes, exact keys, and what the exact check compares.
public struct ClusterCommittedStory: Sendable {
    public var fingerprint: ClusterFingerprint
    public var keys: ClusterStoredKeys
    public var comparable: ClusterComparable
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

    /// Every story committed after `seq`, in commit order, with its fingerprints, keys and
    /// comparable parts (what a worker reads under the lock: the few stories committed since
    /// it caught up before taking it). Stories without fingerprints are left out.
    public func committed(after seq: Int64) async throws -> [ClusterCommittedStory] {
        var result: [ClusterCommittedStory] = []
        let rows = try await connection.query("""
            SELECT seq, simhash, minhash, lead_minhash, title, event, event_terms, event_at, sha256, url, entry_id, shingles,
                   CASE WHEN shingles IS NULL THEN text END, text_bytes
            FROM stories WHERE seq > \(seq) AND simhash IS NOT NULL ORDER BY seq
            """, logger: logger)
        for try await (seq, simhash, minhash, lead, title, event, terms, at, sha256, url, entryID, shingles, text, bytes)
            in rows.decode((Int64, Int64, ByteBuffer, ByteBuffer, String, String, String, Date, String, String?, String?, ByteBuffer?, String?, Int32?).self) {
            let fingerprint = Self.fingerprint(simhash: simhash, minhash: minhash, lead: lead, title: title, event: event, terms: terms, at: at)
            result.append(ClusterCommittedStory(
                fingerprint: fingerprint, keys: ClusterStoredKeys(seq: seq, sha256: sha256, url: url, entryID: entryID),
                comparable: ClusterComparable(seq: seq, sha256: sha256, headline: title, shingles: shingles.map(Self.shingles),
                                              text: text, textBytes: bytes.map(Int.init))))
        }
        return result
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

    /// What the exact check needs of these stored stories, by sequence number.
    public func comparables(_ seqs: [Int64]) async throws -> [Int64: ClusterComparable] {
        guard !seqs.isEmpty else { return [:] }
        var found: [Int64: ClusterComparable] = [:]
        let rows = try await connection.query("""
            SELECT seq, sha256, coalesce(title, ''), shingles, CASE WHEN shingles IS NULL THEN text END, text_bytes
            FROM stories WHERE seq = ANY(\(seqs))
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
