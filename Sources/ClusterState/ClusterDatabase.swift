import Foundation
import Logging
import PostgresNIO

/// Where the cluster state lives: a `postgres://user[:password]@host[:port]/database` URL (the
/// `state:` of a cluster configuration).
public struct ClusterDatabaseURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String

    /// Parses `text`; nil when it is not a `postgres://` (or `postgresql://`) URL.
    public init?(_ text: String) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "postgres" || scheme == "postgresql", let host = components.host, !host.isEmpty,
              let user = components.user, !user.isEmpty else { return nil }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { return nil }
        self.host = host
        port = components.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database
    }

    /// Whether a `state:` value selects cluster mode.
    public static func isCluster(_ state: String) -> Bool {
        let lower = state.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// The URL without its password, for messages.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }
}

/// The cluster state: one PostgreSQL database that every worker and materializer shares. All
/// times that decide anything (leases, host slots, holds) are the database's, never a worker's.
public final class ClusterDatabase: Sendable {
    public let url: ClusterDatabaseURL
    let client: PostgresClient
    let logger: Logger

    public init(url: ClusterDatabaseURL, logger: Logger, maxConnections: Int = 8) {
        self.url = url
        self.logger = logger
        var configuration = PostgresClient.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                         database: url.database, tls: .disable)
        configuration.options.maximumConnections = maxConnections
        // Every query here touches a few rows by index. A parallel plan (chosen on statistics that
        // lag a fast-growing table) costs milliseconds to start workers: too long under the commit lock.
        configuration.options.additionalStartupParameters = [("max_parallel_workers_per_gather", "0")]
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    }

    /// Runs `body` on a database whose connection pool runs for the body's duration and whose
    /// schema is in place (the commands that read the state once, and tests).
    public static func withDatabase<T: Sendable>(url: ClusterDatabaseURL, logger: Logger, maxConnections: Int = 8,
                                                 _ body: (ClusterDatabase) async throws -> T) async throws -> T {
        let database = ClusterDatabase(url: url, logger: logger, maxConnections: maxConnections)
        let pool = Task { await database.run() }
        defer { pool.cancel() }
        try await database.migrate()
        return try await body(database)
    }

    /// Runs the connection pool until the task is cancelled (call it in a task of its own first).
    public func run() async {
        await client.run()
    }

    /// Creates the schema (idempotent; every worker may run it at start). Fails at once when the
    /// server cannot be reached or refuses us (the pool would retry for a minute first).
    public func migrate() async throws(ClusterStateError) {
        try await checkConnection()
        try await perform("create the schema") {
            try await client.withTransaction(logger: logger) { connection in
                // Serialised: two workers starting at once must not both create the tables.
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockSpace), 0)", logger: logger)
                // A schema already in place is left alone: its ALTER TABLEs would wait for (and
                // deadlock with) the other workers' transactions on the same tables.
                try await connection.query("CREATE TABLE IF NOT EXISTS feedcorpus_schema(version TEXT NOT NULL)", logger: logger)
                for try await version in try await connection.query("SELECT version FROM feedcorpus_schema", logger: logger).decode(String.self)
                    where version == Self.schemaVersion {
                    return
                }
                for statement in Self.schema {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("DELETE FROM feedcorpus_schema", logger: logger)
                try await connection.query("INSERT INTO feedcorpus_schema(version) VALUES(\(Self.schemaVersion))", logger: logger)
            }
        }
    }

    /// Opens and closes one connection: the server can be reached and accepts the URL's user
    /// and database (fails at once, where the pool would retry for a minute).
    public func checkConnection() async throws(ClusterStateError) {
        try await perform("connect") {
            let configuration = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                                 database: url.database, tls: .disable)
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try await connection.close()
        }
    }

    /// The advisory-lock key space of feedcorpus (first key); the second key says what is locked.
    static let lockSpace: Int32 = 0x6663_0001
    static let commitLockKey: Int32 = 1

    /// The schema's version: a hash of its statements (FNV-1a), so that any change to them is
    /// applied by the next worker to start.
    static let schemaVersion: String = {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in schema.joined(separator: ";").utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }()

    static let schema = [
        """
        CREATE TABLE IF NOT EXISTS feeds(
            id BIGSERIAL PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            host TEXT NOT NULL,
            next_poll_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            disabled_reason TEXT,
            lease_owner TEXT,
            lease_expires TIMESTAMPTZ,
            fence BIGINT NOT NULL DEFAULT 0,
            last_poll_at TIMESTAMPTZ,
            last_result TEXT,
            last_error TEXT
        )
        """,
        "CREATE INDEX IF NOT EXISTS feeds_due ON feeds(next_poll_at) WHERE disabled_reason IS NULL",
        "CREATE INDEX IF NOT EXISTS feeds_leased ON feeds(host) WHERE lease_owner IS NOT NULL",
        "CREATE TABLE IF NOT EXISTS hosts(host TEXT PRIMARY KEY, next_slot TIMESTAMPTZ NOT NULL, held_until TIMESTAMPTZ)",
        "CREATE TABLE IF NOT EXISTS robots(origin TEXT PRIMARY KEY, status INTEGER NOT NULL, body TEXT NOT NULL, fetched_at TIMESTAMPTZ NOT NULL)",
        // Stories in commit order (`seq`; story-bearing commits hold the commit lock, so insert
        // order is commit order). The unique constraints make a dedupe bug a failed commit,
        // never a second copy. `text` is emptied once every registered corpus copy has it.
        """
        CREATE TABLE IF NOT EXISTS stories(
            seq BIGSERIAL PRIMARY KEY,
            feed_id BIGINT NOT NULL REFERENCES feeds(id),
            entry_key TEXT NOT NULL,
            sha256 TEXT NOT NULL UNIQUE,
            url TEXT UNIQUE,
            entry_id TEXT UNIQUE,
            record TEXT NOT NULL,
            text TEXT,
            committed_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
            UNIQUE(feed_id, entry_key)
        )
        """,
        // What other workers' dedupe indexes read when they catch up (`fingerprints(after:)`).
        """
        ALTER TABLE stories ADD COLUMN IF NOT EXISTS simhash BIGINT, ADD COLUMN IF NOT EXISTS minhash BYTEA,
            ADD COLUMN IF NOT EXISTS lead_minhash BYTEA, ADD COLUMN IF NOT EXISTS title TEXT, ADD COLUMN IF NOT EXISTS event TEXT,
            ADD COLUMN IF NOT EXISTS event_terms TEXT, ADD COLUMN IF NOT EXISTS event_at TIMESTAMPTZ
        """,
        // What the exact check of a near-duplicate candidate compares, kept when the text is
        // pruned: the prose shingles (little-endian UInt64s, sorted) and the text's size.
        "ALTER TABLE stories ADD COLUMN IF NOT EXISTS shingles BYTEA, ADD COLUMN IF NOT EXISTS text_bytes INTEGER",
        // A feed's last validators and schedule, as the polling code keeps them (JSON).
        "ALTER TABLE feeds ADD COLUMN IF NOT EXISTS http_state TEXT, ADD COLUMN IF NOT EXISTS schedule TEXT",
        "CREATE TABLE IF NOT EXISTS corpus_copies(name TEXT PRIMARY KEY, position BIGINT NOT NULL DEFAULT 0, updated_at TIMESTAMPTZ)",
        // A story's text and shingles, written by its store step before the commit lock so that
        // the lock covers small rows only (`stories.body_id`; a story committed without a body
        // keeps them in its own columns). `sha256` names the text, for the step and for people.
        "CREATE TABLE IF NOT EXISTS story_bodies(id BIGSERIAL PRIMARY KEY, sha256 TEXT NOT NULL, text TEXT, shingles BYTEA)",
        "ALTER TABLE stories ADD COLUMN IF NOT EXISTS body_id BIGINT REFERENCES story_bodies(id)",
        // The commit lock and the stories committed after `after`, in one round trip: the lock
        // holder waits for the network once less. The first row gives how long the lock was waited for (µs); the
        // query after the lock takes a fresh snapshot (a VOLATILE function's statements each do),
        // so it sees every story committed before the lock was granted.
        """
        CREATE OR REPLACE FUNCTION feedcorpus_lock_commits(after BIGINT)
        RETURNS TABLE(o_waited BIGINT, o_seq BIGINT, o_simhash BIGINT, o_minhash BYTEA, o_lead BYTEA, o_title TEXT, o_event TEXT,
                      o_terms TEXT, o_at TIMESTAMPTZ, o_sha256 TEXT, o_url TEXT, o_entry_id TEXT)
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE started TIMESTAMPTZ := clock_timestamp();
        BEGIN
            PERFORM pg_advisory_xact_lock(\(lockSpace), \(commitLockKey));
            o_waited := (extract(epoch FROM clock_timestamp() - started) * 1000000)::BIGINT;
            RETURN NEXT;
            -- EXECUTE: planned for this value (a cached generic plan would scan the whole table).
            RETURN QUERY EXECUTE 'SELECT NULL::BIGINT, s.seq, s.simhash, s.minhash, s.lead_minhash, s.title, s.event, s.event_terms,
                                         s.event_at, s.sha256, s.url, s.entry_id
                                  FROM stories s WHERE s.seq > $1 AND s.simhash IS NOT NULL ORDER BY s.seq' USING after;
        END
        $$
        """,
        // Every entry a feed has shown, and what became of it (stored, duplicate, empty).
        """
        CREATE TABLE IF NOT EXISTS entries(
            feed_id BIGINT NOT NULL REFERENCES feeds(id),
            entry_key TEXT NOT NULL,
            outcome TEXT NOT NULL,
            story_seq BIGINT REFERENCES stories(seq),
            first_seen_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY(feed_id, entry_key)
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS duplicates(
            id BIGSERIAL PRIMARY KEY,
            feed_id BIGINT NOT NULL REFERENCES feeds(id),
            entry_key TEXT NOT NULL,
            url TEXT,
            title TEXT,
            reason TEXT NOT NULL,
            duplicate_of BIGINT NOT NULL REFERENCES stories(seq),
            distance INTEGER,
            similarity DOUBLE PRECISION,
            detected_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
        )
        """,
    ]

    /// Runs `body`, turning any failure into a `ClusterStateError` that names `operation`.
    @discardableResult
    func perform<T>(_ operation: String, _ body: () async throws -> T) async throws(ClusterStateError) -> T {
        do {
            return try await body()
        } catch {
            throw classify(error, operation: operation)
        }
    }

    /// A failure as a `ClusterStateError`: a transaction's own failure is the error its body
    /// threw (or its BEGIN's, or its COMMIT's).
    private func classify(_ error: any Error, operation: String) -> ClusterStateError {
        switch error {
        case let error as ClusterStateError:
            return error
        case let error as PostgresTransactionError:
            if let inner = error.closureError ?? error.beginError ?? error.commitError { return classify(inner, operation: operation) }
            return ClusterStateError(.query, operation: operation, message: "\(error) (\(url))")
        case let error as PSQLError:
            let kind: ClusterStateError.Kind = error.code == .server ? .query : .connection
            return ClusterStateError(kind, operation: operation, message: Self.describe(error) + " (\(url)"
                                     + (kind == .connection ? "; is the server running, and are the host, port, user and database of `state:` right?)" : ")"))
        default:
            return ClusterStateError(.connection, operation: operation,
                                     message: "\(error) (\(url); is the server running, and are the host, port, user and database of `state:` right?)")
        }
    }

    /// The server's message for a query error, or the client's reason.
    static func describe(_ error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] {
            return message + (error.serverInfo?[.sqlState].map { " [SQLSTATE \($0)]" } ?? "")
        }
        return "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
    }
}
