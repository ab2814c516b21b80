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
