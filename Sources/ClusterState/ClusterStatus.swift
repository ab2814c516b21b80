import Foundation
import Logging
import PostgresNIO

/// One feed as the shared state knows it (`feedcorpus status` in cluster mode).
public struct ClusterFeedStatus: Sendable, Equatable {
    public var url: String
    public var name: String
    public var host: String
    public var nextPollAt: Date
    /// The worker holding a live lease on it, and until when (nil: nobody, or the lease expired).
    public var leaseOwner: String?
    public var leaseExpires: Date?
    public var lastPollAt: Date?
    public var lastResult: String?
    public var lastError: String?
    public var disabledReason: String?
    public var storiesStored: Int
    public var duplicatesDropped: Int
}

/// The shared state at a glance: its feeds, stories, corpus copies and held hosts, read in one
/// snapshot, with the database's clock.
public struct ClusterOverview: Sendable, Equatable {
    public var now: Date
    public var feeds: [ClusterFeedStatus]
    public var storiesCommitted: Int
    public var latestStorySeq: Int64
    /// Position of every registered corpus copy, by name.
    public var copies: [String: Int64]
    /// Hosts every worker leaves alone until then (Retry-After).
    public var heldHosts: [String: Date]

    /// Workers holding at least one live lease.
    public var workers: Set<String> { Set(feeds.compactMap(\.leaseOwner)) }
}

extension ClusterDatabase {
    /// Reads the overview in one repeatable-read transaction (the counts agree with each other).
    public func overview() async throws(ClusterStateError) -> ClusterOverview {
        try await perform("read the cluster status") {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
                var now = Date()
                for try await time in try await connection.query("SELECT now()", logger: logger).decode(Date.self) { now = time }
                var feeds: [ClusterFeedStatus] = []
                let rows = try await connection.query("""
                    SELECT f.url, f.name, f.host, f.next_poll_at,
                           CASE WHEN f.lease_expires > now() THEN f.lease_owner END,
                           CASE WHEN f.lease_expires > now() THEN f.lease_expires END,
                           f.last_poll_at, f.last_result, f.last_error, f.disabled_reason,
                           (SELECT count(*) FROM stories s WHERE s.feed_id = f.id),
                           (SELECT count(*) FROM duplicates d WHERE d.feed_id = f.id)
                    FROM feeds f ORDER BY f.id
                    """, logger: logger)
                for try await (url, name, host, next, owner, expires, last, result, error, disabled, stories, duplicates)
                    in rows.decode((String, String, String, Date, String?, Date?, Date?, String?, String?, String?, Int64, Int64).self) {
                    feeds.append(ClusterFeedStatus(url: url, name: name, host: host, nextPollAt: next, leaseOwner: owner, leaseExpires: expires,
                                                   lastPollAt: last, lastResult: result, lastError: error, disabledReason: disabled,
                                                   storiesStored: Int(stories), duplicatesDropped: Int(duplicates)))
                }
                var count: Int64 = 0
                var latest: Int64 = 0
                for try await (total, last) in try await connection.query("SELECT count(*), coalesce(max(seq), 0) FROM stories", logger: logger)
                    .decode((Int64, Int64).self) {
                    (count, latest) = (total, last)
                }
                var copies: [String: Int64] = [:]
                for try await (name, position) in try await connection.query("SELECT name, position FROM corpus_copies", logger: logger)
                    .decode((String, Int64).self) {
                    copies[name] = position
                }
                var held: [String: Date] = [:]
                for try await (host, until) in try await connection.query("SELECT host, held_until FROM hosts WHERE held_until > now()", logger: logger)
                    .decode((String, Date).self) {
                    held[host] = until
                }
                return ClusterOverview(now: now, feeds: feeds, storiesCommitted: Int(count), latestStorySeq: latest, copies: copies, heldHosts: held)
            }
        }
    }
}

/// A dropped duplicate as the shared state records it (`feedcorpus duplicates` in cluster mode).
public struct ClusterDuplicateRecord: Sendable, Equatable {
    public var feedURL: String
    public var entryKey: String
    public var url: String?
    public var title: String?
    /// `same_url`, `same_id`, `same_text`, `near_text`.
    public var reason: String
    /// The stored story it duplicates: its commit sequence number, text hash and headline.
    public var storySeq: Int64
    public var storySHA256: String
    public var storyTitle: String?
    public var distance: Int?
    public var similarity: Double?
    public var detectedAt: Date
}

extension ClusterDatabase {
    /// The duplicates detected since `since` (all when nil), oldest first.
    public func duplicates(since: Date?) async throws(ClusterStateError) -> [ClusterDuplicateRecord] {
        try await perform("read the duplicates") {
            var records: [ClusterDuplicateRecord] = []
            let rows = try await client.query("""
                SELECT f.url, d.entry_key, d.url, d.title, d.reason, s.seq, s.sha256, coalesce(s.title, s.record::json->>'title'),
                       d.distance, d.similarity, d.detected_at
                FROM duplicates d JOIN feeds f ON f.id = d.feed_id JOIN stories s ON s.seq = d.duplicate_of
                WHERE d.detected_at >= \(since ?? Date(timeIntervalSince1970: 0)) ORDER BY d.id
                """, logger: logger)
            for try await (feed, key, url, title, reason, seq, sha, storyTitle, distance, similarity, at)
                in rows.decode((String, String, String?, String?, String, Int64, String, String?, Int32?, Double?, Date).self) {
                records.append(ClusterDuplicateRecord(feedURL: feed, entryKey: key, url: url, title: title, reason: reason, storySeq: seq,
                                                      storySHA256: sha, storyTitle: storyTitle, distance: distance.map(Int.init),
                                                      similarity: similarity, detectedAt: at))
            }
            return records
        }
    }
}

extension ClusterDatabase {
    /// The text hash of every story committed up to `seq`, with its sequence number (what a
    /// corpus copy at that position must hold).
    public func storyHashes(upTo seq: Int64) async throws(ClusterStateError) -> [String: Int64] {
        try await perform("read the stories' text hashes up to \(seq)") {
            var hashes: [String: Int64] = [:]
            let rows = try await client.query("SELECT sha256, seq FROM stories WHERE seq <= \(seq)", logger: logger)
            for try await (sha, number) in rows.decode((String, Int64).self) { hashes[sha] = number }
            return hashes
        }
    }
}
