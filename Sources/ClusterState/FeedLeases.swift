import Foundation
import Logging
import PostgresNIO

/// A worker's claim on one feed: valid until `expires` (database time) unless renewed, and
/// only while `fence` is the feed's current fencing counter.
public struct FeedLease: Sendable, Equatable {
    public var feedID: Int64
    public var url: String
    public var name: String
    public var host: String
    public var worker: String
    /// Incremented by every claim of the feed: a commit carrying an older value was overtaken.
    public var fence: Int64
    public var expires: Date
}

/// A feed as it is registered in the cluster state.
public struct ClusterFeed: Sendable, Equatable {
    public var url: String
    public var name: String
    /// The host its requests go to (politeness and the per-host claim limit are per host).
    public var host: String

    public init(url: String, name: String, host: String) {
        self.url = url
        self.name = name
        self.host = host
    }
}

extension ClusterDatabase {
    /// Registers feeds (new ones due now; known ones keep their schedule, their name follows the
    /// configuration).
    public func register(_ feeds: [ClusterFeed]) async throws(ClusterStateError) {
        guard !feeds.isEmpty else { return }
        try await perform("register \(feeds.count) feeds") {
            try await client.withTransaction(logger: logger) { connection in
                for feed in feeds {
                    try await connection.query("""
                        INSERT INTO feeds(url, name, host) VALUES(\(feed.url), \(feed.name), \(feed.host))
                        ON CONFLICT(url) DO UPDATE SET name = excluded.name, host = excluded.host
                        """, logger: logger)
                }
            }
        }
    }

    /// Claims up to `limit` due feeds for `worker`, atomically: rows another worker is claiming
    /// are skipped (`FOR UPDATE SKIP LOCKED`), a feed whose lease has expired is due again, and no
    /// host gets more than `perHost` live leases (its claims are serialised by an advisory lock
    /// per host). Feeds of hosts at their limit are not candidates at all, so that the oldest due
    /// feeds on busy hosts do not hide the feeds of idle ones. Each claim increments the feed's
    /// fencing counter.
    public func claim(worker: String, limit: Int, perHost: Int, lease: Duration) async throws(ClusterStateError) -> [FeedLease] {
        guard limit > 0 else { return [] }
        let seconds = Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18
        return try await perform("claim due feeds") {
            try await client.withTransaction(logger: logger) { connection in
                var candidates: [(id: Int64, host: String)] = []
                let rows = try await connection.query("""
                    SELECT id, host FROM feeds
                    WHERE disabled_reason IS NULL AND next_poll_at <= now() AND (lease_owner IS NULL OR lease_expires < now())
                      AND host NOT IN (SELECT host FROM feeds WHERE lease_owner IS NOT NULL AND lease_expires >= now()
                                       GROUP BY host HAVING count(*) >= \(perHost))
                    ORDER BY next_poll_at LIMIT \(limit * 4)
                    FOR UPDATE SKIP LOCKED
                    """, logger: logger)
                for try await (id, host) in rows.decode((Int64, String).self) { candidates.append((id, host)) }
                guard !candidates.isEmpty else { return [] }
                let hosts = Array(Set(candidates.map(\.host))).sorted()
                // In a fixed order, so two claimers cannot deadlock; the count below then sees
                // every lease committed before.
                try await connection.query("""
                    SELECT pg_advisory_xact_lock(\(Self.lockSpace), hashtext(h))
                    FROM (SELECT h FROM unnest(\(hosts)::text[]) AS h ORDER BY h) AS sorted
                    """, logger: logger)
                var live: [String: Int] = [:]
                let counts = try await connection.query("""
                    SELECT host, count(*) FROM feeds
                    WHERE lease_owner IS NOT NULL AND lease_expires >= now() AND host = ANY(\(hosts))
                    GROUP BY host
                    """, logger: logger)
                for try await (host, count) in counts.decode((String, Int64).self) { live[host] = Int(count) }
                var chosen: [Int64] = []
                for candidate in candidates where chosen.count < limit {
                    guard live[candidate.host, default: 0] < perHost else { continue }
                    live[candidate.host, default: 0] += 1
                    chosen.append(candidate.id)
                }
                guard !chosen.isEmpty else { return [] }
                var leases: [FeedLease] = []
                let claimed = try await connection.query("""
                    UPDATE feeds SET lease_owner = \(worker), lease_expires = now() + \(seconds) * interval '1 second', fence = fence + 1
                    WHERE id = ANY(\(chosen))
                    RETURNING id, url, name, host, fence, lease_expires
                    """, logger: logger)
                for try await (id, url, name, host, fence, expires) in claimed.decode((Int64, String, String, String, Int64, Date).self) {
                    leases.append(FeedLease(feedID: id, url: url, name: name, host: host, worker: worker, fence: fence, expires: expires))
                }
                return leases.sorted { $0.feedID < $1.feedID }
            }
        }
    }

    /// Extends a live lease; throws `leaseLost` when it expired or was taken over.
    public func renew(_ lease: FeedLease, for duration: Duration) async throws(ClusterStateError) -> FeedLease {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        let renewed: Date? = try await perform("renew the lease on \(lease.url)") {
            let rows = try await client.query("""
                UPDATE feeds SET lease_expires = clock_timestamp() + \(seconds) * interval '1 second'
                WHERE id = \(lease.feedID) AND fence = \(lease.fence) AND lease_owner = \(lease.worker) AND lease_expires >= clock_timestamp()
                RETURNING lease_expires
                """, logger: logger)
            for try await expires in rows.decode(Date.self) { return expires }
            return nil
        }
        guard let renewed else { throw Self.lost(lease) }
        var next = lease
        next.expires = renewed
        return next
    }

    /// Runs `body` in one transaction that first checks, with the feed's row locked, that
    /// `lease` still holds (same fence, same worker, not expired by the database's clock); then
    /// ends the lease and sets the feed's next poll. When the lease was lost, nothing of `body`
    /// is committed and `leaseLost` is thrown.
    @discardableResult
    public func finish<T: Sendable>(_ lease: FeedLease, nextPollAt: Date, result: String, error: String? = nil,
                                    _ body: (PostgresConnection) async throws -> T) async throws(ClusterStateError) -> T {
        try await perform("commit the poll of \(lease.url)") {
            try await client.withTransaction(logger: logger) { connection in
                try await checkLease(lease, connection: connection)
                let value = try await body(connection)
                try await endLease(lease, nextPollAt: nextPollAt, result: result, error: error, connection: connection)
                return value
            }
        }
    }

    /// Throws `leaseLost` unless `lease` still holds (same fence, same worker, not expired by the
    /// database's clock); locks the feed's row for the rest of the transaction.
    func checkLease(_ lease: FeedLease, connection: PostgresConnection) async throws {
        let rows = try await connection.query("""
            SELECT fence, lease_owner, lease_expires >= clock_timestamp() FROM feeds WHERE id = \(lease.feedID) FOR UPDATE
            """, logger: logger)
        var holds = false
        for try await (fence, owner, live) in rows.decode((Int64, String?, Bool?).self) {
            holds = fence == lease.fence && owner == lease.worker && live == true
        }
        guard holds else { throw Self.lost(lease) }
    }

    /// Ends the lease with the poll's result and the feed's next poll.
    func endLease(_ lease: FeedLease, nextPollAt: Date, result: String, error: String?, connection: PostgresConnection) async throws {
        try await connection.query("""
            UPDATE feeds SET lease_owner = NULL, lease_expires = NULL, next_poll_at = \(nextPollAt),
                last_poll_at = now(), last_result = \(result), last_error = \(error)
            WHERE id = \(lease.feedID)
            """, logger: logger)
    }

    /// Gives a lease back without recording a poll (a worker stopping before it polled the feed,
    /// or after a poll that recorded nothing); the feed is due again at once. Nothing happens when
    /// the lease is no longer held.
    public func release(_ lease: FeedLease) async throws(ClusterStateError) {
        try await perform("release the lease on \(lease.url)") {
            try await client.query("""
                UPDATE feeds SET lease_owner = NULL, lease_expires = NULL
                WHERE id = \(lease.feedID) AND fence = \(lease.fence) AND lease_owner = \(lease.worker)
                """, logger: logger)
        }
    }

    /// A feed's last validators and schedule as the polling code stored them (JSON; nil: never polled).
    public func pollState(feedID: Int64) async throws(ClusterStateError) -> (http: String?, schedule: String?) {
        try await perform("read the poll state of feed \(feedID)") {
            for try await (http, schedule) in try await client.query("SELECT http_state, schedule FROM feeds WHERE id = \(feedID)", logger: logger)
                .decode((String?, String?).self) {
                return (http, schedule)
            }
            return (nil, nil)
        }
    }

    /// Ends a poll that stored nothing, under the lease: the result, the validators (nil keeps
    /// the last ones), the schedule and, when the schedule says so, the reason the feed is disabled.
    public func finishPoll(_ lease: FeedLease, nextPollAt: Date, result: String, error: String?, http: String?, schedule: String,
                           disabledReason: String?) async throws(ClusterStateError) {
        try await finish(lease, nextPollAt: nextPollAt, result: result, error: error) { connection in
            try await connection.query("""
                UPDATE feeds SET http_state = coalesce(\(http), http_state), schedule = \(schedule), disabled_reason = \(disabledReason)
                WHERE id = \(lease.feedID)
                """, logger: logger)
        }
    }

    static func lost(_ lease: FeedLease) -> ClusterStateError {
        ClusterStateError(.leaseLost, operation: "commit the poll of \(lease.url)",
                          message: "worker \(lease.worker) no longer holds the lease (fence \(lease.fence)): it expired or another worker claimed the feed; this poll's results are discarded")
    }
}

extension ClusterDatabase {
    /// Adds many new feeds at once with `COPY` (a first registration of a large list; feeds
    /// already known make it fail, nothing is added then). All are due now.
    public func copyNewFeeds(_ feeds: [ClusterFeed]) async throws(ClusterStateError) {
        try await perform("copy \(feeds.count) feeds") {
            try await client.withConnection { connection in
                try await connection.copyFrom(table: "feeds", columns: ["url", "name", "host"], logger: logger) { writer in
                    var buffer = ByteBuffer()
                    for (index, feed) in feeds.enumerated() {
                        buffer.writeString(Self.copyField(feed.url) + "\t" + Self.copyField(feed.name) + "\t" + Self.copyField(feed.host) + "\n")
                        if index % 10_000 == 9_999 {
                            try await writer.write(buffer)
                            buffer.clear()
                        }
                    }
                    if buffer.readableBytes > 0 { try await writer.write(buffer) }
                }
            }
        }
    }

    /// A value in COPY's text format: backslash, tab, newline and carriage return escaped.
    static func copyField(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.append(character)
            }
        }
        return out
    }
}
