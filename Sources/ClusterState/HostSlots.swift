import Foundation
import Logging
import PostgresNIO

/// When a request to a host may start, as the cluster state decides it for every worker.
public enum HostSlot: Sendable, Equatable {
    /// Start after waiting this many seconds (0 or more), at `slot` by the database's clock.
    case wait(Double, slot: Date)
    /// The host asked to be left alone (Retry-After, errors) until then: no request.
    case held(until: Date)
}

extension ClusterDatabase {
    /// Reserves the next request slot of `host`: slots of one host are `delay` seconds apart
    /// across all workers (one row per host, updated atomically), and none is given while the
    /// host is held.
    public func reserveSlot(host: String, delay: Double) async throws(ClusterStateError) -> HostSlot {
        try await perform("reserve a request slot for \(host)") {
            let rows = try await client.query("""
                INSERT INTO hosts(host, next_slot) VALUES(\(host), clock_timestamp() + \(delay) * interval '1 second')
                ON CONFLICT(host) DO UPDATE SET next_slot = greatest(hosts.next_slot, clock_timestamp()) + \(delay) * interval '1 second'
                    WHERE hosts.held_until IS NULL OR hosts.held_until <= clock_timestamp()
                RETURNING greatest(0, extract(epoch FROM (next_slot - \(delay) * interval '1 second' - clock_timestamp())))::float8,
                          next_slot - \(delay) * interval '1 second'
                """, logger: logger)
            for try await (wait, slot) in rows.decode((Double, Date).self) { return HostSlot.wait(wait, slot: slot) }
            let held = try await client.query("SELECT held_until FROM hosts WHERE host = \(host)", logger: logger)
            for try await until in held.decode(Date?.self) { return HostSlot.held(until: until ?? Date()) }
            return HostSlot.wait(0, slot: Date())
        }
    }

    /// Whether a slot reserved for `host` may still be used now: the host is not held (else until
    /// when it is), and the slot is no more than `tolerance` seconds past (a worker that woke up
    /// late, or was stopped, would otherwise start its request next to a later slot's).
    public func slotStillValid(host: String, slot: Date, tolerance: Double) async throws(ClusterStateError) -> (held: Date?, late: Bool) {
        try await perform("check the request slot for \(host)") {
            let rows = try await client.query("""
                SELECT CASE WHEN held_until > clock_timestamp() THEN held_until END,
                       clock_timestamp() > \(slot) + \(tolerance) * interval '1 second'
                FROM hosts WHERE host = \(host)
                """, logger: logger)
            for try await (held, late) in rows.decode((Date?, Bool).self) { return (held, late) }
            return (nil, false)
        }
    }

    /// Holds `host` for every worker for `seconds` from now by the database's clock (a later
    /// hold wins): a Retry-After measured by one worker's clock holds for its length everywhere.
    public func hold(host: String, forSeconds seconds: Double) async throws(ClusterStateError) {
        try await perform("hold \(host)") {
            try await client.query("""
                INSERT INTO hosts(host, next_slot, held_until)
                VALUES(\(host), clock_timestamp(), clock_timestamp() + \(max(0, seconds)) * interval '1 second')
                ON CONFLICT(host) DO UPDATE SET held_until = greatest(coalesce(hosts.held_until, excluded.held_until), excluded.held_until)
                """, logger: logger)
        }
    }

    /// Holds `host` for every worker until `until` (a later hold wins).
    public func hold(host: String, until: Date) async throws(ClusterStateError) {
        try await perform("hold \(host)") {
            try await client.query("""
                INSERT INTO hosts(host, next_slot, held_until) VALUES(\(host), clock_timestamp(), \(until))
                ON CONFLICT(host) DO UPDATE SET held_until = greatest(coalesce(hosts.held_until, excluded.held_until), excluded.held_until)
                """, logger: logger)
        }
    }

    /// A robots.txt another worker fetched for `origin` no longer ago than `maxAge` seconds:
    /// its HTTP status and body.
    public func cachedRobots(origin: String, maxAge: Double) async throws(ClusterStateError) -> (status: Int, body: String)? {
        try await perform("read robots.txt of \(origin)") {
            let rows = try await client.query("""
                SELECT status, body FROM robots WHERE origin = \(origin) AND fetched_at > clock_timestamp() - \(maxAge) * interval '1 second'
                """, logger: logger)
            for try await (status, body) in rows.decode((Int32, String).self) { return (Int(status), body) }
            return nil
        }
    }

    /// Shares a fetched robots.txt with every worker.
    public func storeRobots(origin: String, status: Int, body: String) async throws(ClusterStateError) {
        try await perform("store robots.txt of \(origin)") {
            try await client.query("""
                INSERT INTO robots(origin, status, body, fetched_at) VALUES(\(origin), \(Int32(clamping: status)), \(body), clock_timestamp())
                ON CONFLICT(origin) DO UPDATE SET status = excluded.status, body = excluded.body, fetched_at = excluded.fetched_at
                """, logger: logger)
        }
    }
}
