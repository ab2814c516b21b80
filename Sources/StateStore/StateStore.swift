import CSQLite
import FeedModel
import Foundation

/// HTTP validators and the last body hash of a feed, for conditional requests.
public struct FeedHTTPState: Sendable, Equatable {
    public var etag: String?
    public var lastModified: String?
    public var bodySHA256: String?

    public init(etag: String? = nil, lastModified: String? = nil, bodySHA256: String? = nil) {
        self.etag = etag
        self.lastModified = lastModified
        self.bodySHA256 = bodySHA256
    }
}

/// How a feed's last poll ended, as the state records it (`feeds.last_result`).
public enum PollResult: String, Sendable, Equatable {
    /// Fetched and parsed (new stories stored or not).
    case ok
    /// 304, or a body byte-identical to the last one.
    case notModified = "not_modified"
    /// A failure: counts towards the backoff.
    case error
    /// Waiting for a host that asked to wait (Retry-After): not the feed's failure.
    case held
}

/// Where and when a feed is polled next, as the fetcher's outcomes decide it.
public struct FeedSchedule: Sendable, Equatable {
    /// The URL polled instead of the configured one after a confirmed permanent redirect.
    public var fetchURL: String?
    /// A permanent redirect target seen but not yet confirmed, and how often it was seen.
    public var pendingRedirect: String?
    public var pendingRedirectCount: Int
    /// Not before this instant (error backoff, Retry-After); nil: whenever the scheduler likes.
    public var nextPollAt: Date?
    /// Why the feed is no longer polled (HTTP 410 Gone), if it is not.
    public var disabledReason: String?
    /// Cache-Control max-age / Expires of the last response, seconds.
    public var freshnessLifetime: TimeInterval?
    public var consecutiveErrors: Int
    /// The interval the scheduler last chose, seconds.
    public var pollInterval: TimeInterval?
    /// How often a poll found only unknown entries in a full document (entries may have been missed).
    public var windowOverflows: Int

    public init(fetchURL: String? = nil, pendingRedirect: String? = nil, pendingRedirectCount: Int = 0, nextPollAt: Date? = nil,
                disabledReason: String? = nil, freshnessLifetime: TimeInterval? = nil, consecutiveErrors: Int = 0,
                pollInterval: TimeInterval? = nil, windowOverflows: Int = 0) {
        self.pollInterval = pollInterval
        self.windowOverflows = windowOverflows
        self.fetchURL = fetchURL
        self.pendingRedirect = pendingRedirect
        self.pendingRedirectCount = pendingRedirectCount
        self.nextPollAt = nextPollAt
        self.disabledReason = disabledReason
        self.freshnessLifetime = freshnessLifetime
        self.consecutiveErrors = consecutiveErrors
    }
}

/// Everything `feedcorpus status` shows about one feed.
public struct FeedStatus: Sendable, Equatable {
    public var url: String
    public var name: String
    public var lastPollAt: Date?
    public var lastResult: PollResult?
    public var lastError: String?
    public var consecutiveErrors: Int
    public var nextPollAt: Date?
    public var pollInterval: TimeInterval?
    public var disabledReason: String?
    public var fetchURL: String?
    public var windowOverflows: Int
    public var storiesStored: Int
    public var duplicatesDropped: Int

    public init(url: String, name: String, lastPollAt: Date? = nil, lastResult: PollResult? = nil, lastError: String? = nil,
                consecutiveErrors: Int, nextPollAt: Date? = nil, pollInterval: TimeInterval? = nil, disabledReason: String? = nil,
                fetchURL: String? = nil, windowOverflows: Int, storiesStored: Int, duplicatesDropped: Int) {
        self.url = url
        self.name = name
        self.lastPollAt = lastPollAt
        self.lastResult = lastResult
        self.lastError = lastError
        self.consecutiveErrors = consecutiveErrors
        self.nextPollAt = nextPollAt
        self.pollInterval = pollInterval
        self.disabledReason = disabledReason
        self.fetchURL = fetchURL
        self.windowOverflows = windowOverflows
        self.storiesStored = storiesStored
        self.duplicatesDropped = duplicatesDropped
    }
}

/// The outcome of a feed's most recent poll.
public struct FeedPollStatus: Sendable, Equatable {
    public var lastResult: PollResult?
    public var lastError: String?
    public var consecutiveErrors: Int

    public init(lastResult: PollResult?, lastError: String?, consecutiveErrors: Int) {
        self.lastResult = lastResult
        self.lastError = lastError
        self.consecutiveErrors = consecutiveErrors
    }
}

/// A stored story as the state knows it.
/// A dropped duplicate, traceable to the story it duplicates.
public struct DuplicateRecord: Sendable, Equatable {
    public var feedURL: String
    public var entryKey: String
    public var url: String?
    public var title: String?
    public var reason: DuplicateReason
    public var duplicateOf: String
    /// Hamming distance of the SimHashes, for `nearText`.
    public var distance: Int?
    /// The verified similarity (estimated shingle Jaccard or containment), for `nearText`.
    public var similarity: Double?
    public var detectedAt: Date
    /// The headline of the stored story it duplicates (filled in when read from the state).
    public var duplicateOfTitle: String?

    public init(feedURL: String, entryKey: String, url: String?, title: String?, reason: DuplicateReason, duplicateOf: String,
                distance: Int? = nil, similarity: Double? = nil, detectedAt: Date, duplicateOfTitle: String? = nil) {
        self.duplicateOfTitle = duplicateOfTitle
        self.distance = distance
        self.similarity = similarity
        self.feedURL = feedURL
        self.entryKey = entryKey
        self.url = url
        self.title = title
        self.reason = reason
        self.duplicateOf = duplicateOf
        self.detectedAt = detectedAt
    }
}

/// One story a poll stores: its manifest record (the file is written), the entry it came from,
/// and what the dedupe stage needs of it later.
public struct StoryCommit: Sendable {
    public var entryKey: String
    public var record: StoryRecord
    public var simhash: UInt64
    /// Serialised MinHash signatures (`MinHashSignature.bytes`) of the whole text and its lead.
    public var minhash: [UInt8]
    public var leadMinhash: [UInt8]
    /// The terms its event was decided on (`EventTerms.serialized`).
    public var eventTerms: String
    /// The stored story it supersedes (keep-longer near duplicates).
    public var supersedes: Int64?

    public init(entryKey: String, record: StoryRecord, simhash: UInt64 = 0, minhash: [UInt8] = [], leadMinhash: [UInt8] = [],
                eventTerms: String = "", supersedes: Int64? = nil) {
        self.entryKey = entryKey
        self.record = record
        self.simhash = simhash
        self.minhash = minhash
        self.leadMinhash = leadMinhash
        self.eventTerms = eventTerms
        self.supersedes = supersedes
    }
}

/// What one poll of one feed changes in the state, committed in one transaction after the
/// corpus files are durable.
public struct FeedPollCommit: Sendable {
    public var feedID: Int64
    public var polledAt: Date
    /// `ok`, `not_modified`, `error` (counts towards backoff) or `held` (the host asked to wait).
    public var result: PollResult
    public var error: String?
    public var http: FeedHTTPState?
    public var stored: [StoryCommit]
    public var duplicates: [DuplicateRecord]
    /// New entries that gave no text at all; remembered so they are not reconsidered.
    public var emptyEntryKeys: [String]
    /// The feed's new schedule; nil leaves it as it is.
    public var schedule: FeedSchedule?

    public init(feedID: Int64, polledAt: Date, result: PollResult, error: String? = nil, http: FeedHTTPState? = nil,
                stored: [StoryCommit] = [], duplicates: [DuplicateRecord] = [],
                emptyEntryKeys: [String] = [], schedule: FeedSchedule? = nil) {
        self.schedule = schedule
        self.feedID = feedID
        self.polledAt = polledAt
        self.result = result
        self.error = error
        self.http = http
        self.stored = stored
        self.duplicates = duplicates
        self.emptyEntryKeys = emptyEntryKeys
    }
}

/// The persistent state: feeds, seen entries, stored stories and dropped duplicates, in one
/// SQLite file in WAL mode. One owner at a time (the process holds the state lock).
public final class StateStore {
    static let schemaVersion: Int64 = 6
    private let db: SQLiteConnection
    public let path: String

    /// Opens (and creates or migrates) the state database at `path`, creating its folder.
    public init(path: String) throws(StateStoreError) {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw StateStoreError(path: path, operation: "create folder \(folder)", message: error.localizedDescription)
            }
        }
        db = try SQLiteConnection(path: path)
        try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
        try migrate()
    }

    private init(path: String, connection: SQLiteConnection) {
        self.path = path
        db = connection
    }

    private func migrate() throws(StateStoreError) {
        let version = try db.query("PRAGMA user_version").first?.first?.int ?? 0
        if version > Self.schemaVersion {
            throw StateStoreError(path: path, operation: "open", message: "schema version \(version) is newer than this feedcorpus understands (\(Self.schemaVersion)); upgrade feedcorpus")
        }
        if version < 1 { try createVersion1() }
        if version < 2 {
            try db.transaction { () throws(StateStoreError) in
                try db.execute("""
                    ALTER TABLE feeds ADD COLUMN fetch_url TEXT;
                    ALTER TABLE feeds ADD COLUMN pending_redirect TEXT;
                    ALTER TABLE feeds ADD COLUMN pending_redirect_count INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE feeds ADD COLUMN next_poll_at REAL;
                    ALTER TABLE feeds ADD COLUMN disabled_reason TEXT;
                    ALTER TABLE feeds ADD COLUMN freshness_lifetime REAL;
                    CREATE TABLE hosts(host TEXT PRIMARY KEY, held_until REAL NOT NULL) WITHOUT ROWID;
                    PRAGMA user_version = 2;
                    """)
            }
        }
        if version < 3 {
            try db.transaction { () throws(StateStoreError) in
                try db.execute("""
                    ALTER TABLE duplicates ADD COLUMN distance INTEGER;
                    ALTER TABLE stories ADD COLUMN entry_id TEXT;
                    ALTER TABLE stories ADD COLUMN event TEXT;
                    ALTER TABLE stories ADD COLUMN event_terms TEXT;
                    ALTER TABLE stories ADD COLUMN supersedes INTEGER REFERENCES stories(id);
                    ALTER TABLE stories ADD COLUMN lead_simhash INTEGER;
                    CREATE INDEX stories_entry_id ON stories(entry_id);
                    CREATE INDEX stories_fetched ON stories(fetched_at);
                    PRAGMA user_version = 3;
                    """)
            }
        }
        if version < 4 {
            try db.transaction { () throws(StateStoreError) in
                try db.execute("""
                    ALTER TABLE feeds ADD COLUMN poll_interval REAL;
                    ALTER TABLE feeds ADD COLUMN window_overflows INTEGER NOT NULL DEFAULT 0;
                    PRAGMA user_version = 4;
                    """)
            }
        }
        if version < 5 {
            // MinHash signatures for verified near duplicates; the SimHash of stories stored
            // before is recomputed from their files (see `storiesNeedingFingerprints`).
            try db.transaction { () throws(StateStoreError) in
                try db.execute("""
                    ALTER TABLE stories ADD COLUMN minhash BLOB;
                    ALTER TABLE stories ADD COLUMN lead_minhash BLOB;
                    ALTER TABLE duplicates ADD COLUMN similarity REAL;
                    PRAGMA user_version = 5;
                    """)
            }
        }
        if version < 6 {
            // Facts about the state itself: the id of the corpus it writes (see `corpusID`).
            try db.transaction { () throws(StateStoreError) in
                try db.execute("""
                    CREATE TABLE properties(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                    PRAGMA user_version = 6;
                    """)
            }
        }
    }

    private func createVersion1() throws(StateStoreError) {
        try db.transaction { () throws(StateStoreError) in
            try db.execute("""
                CREATE TABLE feeds(
                    id INTEGER PRIMARY KEY,
                    url TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    etag TEXT,
                    last_modified TEXT,
                    body_sha256 TEXT,
                    last_poll_at REAL,
                    last_result TEXT,
                    last_error TEXT,
                    consecutive_errors INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE stories(
                    id INTEGER PRIMARY KEY,
                    file TEXT NOT NULL UNIQUE,
                    sha256 TEXT NOT NULL UNIQUE,
                    simhash INTEGER NOT NULL,
                    url TEXT,
                    feed_id INTEGER NOT NULL REFERENCES feeds(id),
                    entry_key TEXT NOT NULL,
                    title TEXT NOT NULL,
                    published_at REAL,
                    fetched_at REAL NOT NULL,
                    manifest_line TEXT NOT NULL
                );
                CREATE INDEX stories_url ON stories(url);
                CREATE TABLE entries(
                    feed_id INTEGER NOT NULL REFERENCES feeds(id),
                    entry_key TEXT NOT NULL,
                    first_seen_at REAL NOT NULL,
                    outcome TEXT NOT NULL,
                    story_id INTEGER REFERENCES stories(id),
                    PRIMARY KEY(feed_id, entry_key)
                ) WITHOUT ROWID;
                CREATE TABLE duplicates(
                    id INTEGER PRIMARY KEY,
                    feed_id INTEGER NOT NULL REFERENCES feeds(id),
                    entry_key TEXT NOT NULL,
                    url TEXT,
                    title TEXT,
                    reason TEXT NOT NULL,
                    duplicate_of INTEGER NOT NULL REFERENCES stories(id),
                    detected_at REAL NOT NULL
                );
                PRAGMA user_version = 1;
                """)
        }
    }

    /// The id of the feed whose configured URL is `url`, registering it on first sight.
    public func feedID(url: String, name: String) throws(StateStoreError) -> Int64 {
        try db.query(
            "INSERT INTO feeds(url, name) VALUES(?, ?) ON CONFLICT(url) DO UPDATE SET name = excluded.name",
            [.text(url), .text(name)])
        guard let id = try db.query("SELECT id FROM feeds WHERE url = ?", [.text(url)]).first?.first?.int else {
            throw StateStoreError(path: path, operation: "register feed \(url)", message: "row not found after insert")
        }
        return id
    }

    /// The validators kept from the feed's last successful poll.
    public func httpState(feedID: Int64) throws(StateStoreError) -> FeedHTTPState {
        guard let row = try db.query("SELECT etag, last_modified, body_sha256 FROM feeds WHERE id = ?", [.integer(feedID)]).first else {
            return FeedHTTPState()
        }
        return FeedHTTPState(etag: row[0].string, lastModified: row[1].string, bodySHA256: row[2].string)
    }

    /// The status of every feed the state knows, in registration order.
    public func feedStatuses() throws(StateStoreError) -> [FeedStatus] {
        try db.query("""
            SELECT f.url, f.name, f.last_poll_at, f.last_result, f.last_error, f.consecutive_errors, f.next_poll_at,
                   f.poll_interval, f.disabled_reason, f.fetch_url, f.window_overflows,
                   (SELECT count(*) FROM stories s WHERE s.feed_id = f.id),
                   (SELECT count(*) FROM duplicates d WHERE d.feed_id = f.id)
            FROM feeds f ORDER BY f.id
            """).compactMap { row in
            guard let url = row[0].string, let name = row[1].string else { return nil }
            return FeedStatus(url: url, name: name, lastPollAt: row[2].date, lastResult: row[3].string.flatMap(PollResult.init(rawValue:)), lastError: row[4].string,
                              consecutiveErrors: Int(row[5].int ?? 0), nextPollAt: row[6].date, pollInterval: row[7].double,
                              disabledReason: row[8].string, fetchURL: row[9].string, windowOverflows: Int(row[10].int ?? 0),
                              storiesStored: Int(row[11].int ?? 0), duplicatesDropped: Int(row[12].int ?? 0))
        }
    }

    /// Opens an existing state read-only (for `status` while the service runs; no lock needed).
    /// Makes the feeds with these URLs (every feed when nil) due at `now`, except disabled ones;
    /// returns how many were changed. Feeds never polled are due anyway.
    @discardableResult
    public func markDue(urls: [String]?, now: Date) throws(StateStoreError) -> Int {
        try db.transaction { () throws(StateStoreError) -> Int in
            guard let urls else {
                try db.query("UPDATE feeds SET next_poll_at = ? WHERE disabled_reason IS NULL", [.real(now.timeIntervalSince1970)])
                return db.changes
            }
            var changed = 0
            for url in urls {
                try db.query("UPDATE feeds SET next_poll_at = ? WHERE url = ? AND disabled_reason IS NULL", [.real(now.timeIntervalSince1970), .text(url)])
                changed += db.changes
            }
            return changed
        }
    }

    /// Brings a feed's next poll forward to `latest` when it is later (new interval bounds);
    /// a feed backing off after errors, or disabled, is left alone. True when it changed.
    @discardableResult
    public func limitNextPoll(url: String, latest: Date) throws(StateStoreError) -> Bool {
        try db.query("UPDATE feeds SET next_poll_at = ? WHERE url = ? AND next_poll_at > ? AND consecutive_errors = 0 AND disabled_reason IS NULL",
                     [.real(latest.timeIntervalSince1970), .text(url), .real(latest.timeIntervalSince1970)])
        return db.changes > 0
    }

    /// Enables a feed that a 410 disabled: clears the reason and the error count and makes it due.
    /// Returns the reason it had (nil when it was not disabled), or throws when the state does not know the feed.
    public func enable(url: String, now: Date) throws(StateStoreError) -> String? {
        guard let row = try db.query("SELECT disabled_reason FROM feeds WHERE url = ?", [.text(url)]).first else {
            throw StateStoreError(path: path, operation: "enable \(url)", message: "the state does not know this feed (it was never polled)")
        }
        try db.query("UPDATE feeds SET disabled_reason = NULL, consecutive_errors = 0, next_poll_at = ? WHERE url = ?",
                     [.real(now.timeIntervalSince1970), .text(url)])
        return row.first?.string
    }

    /// The SQLite library the process runs with.
    public static var sqliteVersion: String { String(cString: sqlite3_libversion()) }

    /// Opens an existing state for reading only (`status`, `check`, `verify`): nothing is created,
    /// migrated or written, so it is safe beside a running service and on a read-only copy. A state
    /// of another schema version is an error that says what to do.
    public static func openReadOnly(path: String) throws(StateStoreError) -> StateStore {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StateStoreError(path: path, operation: "open", message: "no state file yet: nothing has been fetched with this config")
        }
        let connection = try SQLiteConnection(path: path, readOnly: true)
        let version = try connection.query("PRAGMA user_version").first?.first?.int ?? 0
        if version > schemaVersion {
            throw StateStoreError(path: path, operation: "open", message: "schema version \(version) is newer than this feedcorpus understands (\(schemaVersion)); upgrade feedcorpus")
        }
        if version < schemaVersion {
            throw StateStoreError(path: path, operation: "open", message: "schema version \(version) is older than this feedcorpus's (\(schemaVersion)); the next `feedcorpus fetch --once` or `run` upgrades it")
        }
        return StateStore(path: path, connection: connection)
    }

    /// Opens an existing state to change a feed's schedule without the state lock (`poll`,
    /// `enable`): SQLite's own locking makes the small update safe beside a running service.
    /// Nothing is created when the file is missing.
    public static func openExisting(path: String) throws(StateStoreError) -> StateStore {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StateStoreError(path: path, operation: "open", message: "no state file yet: nothing has been fetched with this config")
        }
        return try StateStore(path: path)
    }

    /// The outcome of the feed's last poll.
    public func feedStatus(feedID: Int64) throws(StateStoreError) -> FeedPollStatus? {
        guard let row = try db.query("SELECT last_result, last_error, consecutive_errors FROM feeds WHERE id = ?", [.integer(feedID)]).first else {
            return nil
        }
        return FeedPollStatus(lastResult: row[0].string.flatMap(PollResult.init(rawValue:)), lastError: row[1].string, consecutiveErrors: Int(row[2].int ?? 0))
    }

    /// Which of `keys` this feed has already seen.
    public func seenEntryKeys(feedID: Int64, among keys: [String]) throws(StateStoreError) -> Set<String> {
        var seen = Set<String>()
        for key in keys where try !db.query("SELECT 1 FROM entries WHERE feed_id = ? AND entry_key = ?", [.integer(feedID), .text(key)]).isEmpty {
            seen.insert(key)
        }
        return seen
    }

    /// The stored story whose normalised text has this SHA-256, if any.
    public func story(sha256: String) throws(StateStoreError) -> StoredStoryRef? {
        guard let row = try db.query("SELECT id, file FROM stories WHERE sha256 = ?", [.text(sha256)]).first,
              let id = row[0].int, let file = row[1].string else { return nil }
        return StoredStoryRef(id: id, file: file)
    }

    /// The stored story with this canonical URL, if any.
    public func story(url: String) throws(StateStoreError) -> StoredStoryRef? {
        try storyRef("SELECT id, file FROM stories WHERE url = ? LIMIT 1", .text(url))
    }

    /// The stored story whose entry had this id (from any feed), if any.
    public func story(entryID: String) throws(StateStoreError) -> StoredStoryRef? {
        try storyRef("SELECT id, file FROM stories WHERE entry_id = ? LIMIT 1", .text(entryID))
    }

    /// The stored story with this row id.
    public func story(id: Int64) throws(StateStoreError) -> StoredStoryRef? {
        try storyRef("SELECT id, file FROM stories WHERE id = ?", .integer(id))
    }

    private func storyRef(_ sql: String, _ value: SQLValue) throws(StateStoreError) -> StoredStoryRef? {
        guard let row = try db.query(sql, [value]).first, let id = row[0].int, let file = row[1].string else { return nil }
        return StoredStoryRef(id: id, file: file)
    }

    /// A stored story's near-duplicate fingerprints as the state holds them.
    public struct StoredFingerprints: Sendable {
        public var id: Int64
        public var file: String
        /// The stored headline.
        public var title: String
        public var simhash: UInt64
        /// Serialised MinHash signatures; nil for a story stored before schema version 5.
        public var minhash: [UInt8]?
        public var leadMinhash: [UInt8]?
    }

    /// Calls `body` with every stored story's fingerprints, in storing order (for the
    /// near-duplicate indexes at start-up).
    public func forEachFingerprint(_ body: (StoredFingerprints) -> Void) throws(StateStoreError) {
        try db.forEachRow("SELECT id, file, simhash, minhash, lead_minhash, title FROM stories ORDER BY id") { row in
            if let id = row[0].int, let file = row[1].string, let value = row[2].int {
                body(StoredFingerprints(id: id, file: file, title: row[5].string ?? "", simhash: UInt64(bitPattern: value),
                                        minhash: row[3].bytes, leadMinhash: row[4].bytes))
            }
        }
    }

    /// Replaces stories' fingerprints (stories stored before schema version 5 get theirs
    /// computed from their files once), in one transaction.
    public func updateFingerprints(_ rows: [(id: Int64, simhash: UInt64, minhash: [UInt8], leadMinhash: [UInt8])]) throws(StateStoreError) {
        try db.transaction { () throws(StateStoreError) in
            for row in rows {
                try db.query("UPDATE stories SET simhash = ?, minhash = ?, lead_minhash = ? WHERE id = ?",
                             [.integer(Int64(bitPattern: row.simhash)), .blob(row.minhash), .blob(row.leadMinhash), .integer(row.id)])
            }
        }
    }

    /// Stories stored since `since` with their event and event terms (for event grouping).
    public func recentEventSignatures(since: Date) throws(StateStoreError) -> [(id: Int64, event: String, terms: String, at: Date)] {
        try db.query("SELECT id, event, event_terms, fetched_at FROM stories WHERE fetched_at >= ? AND event IS NOT NULL ORDER BY id",
                     [.real(since.timeIntervalSince1970)]).compactMap { row in
            guard let id = row[0].int, let event = row[1].string, let at = row[3].date else { return nil }
            return (id, event, row[2].string ?? "", at)
        }
    }

    /// The stored files in `folders` (day folders, or "" for the corpus root of the flat layout)
    /// with their manifest lines: what start-up reconciliation needs, without reading every
    /// story the state has ever recorded.
    public func storedFiles(inFolders folders: [String]) throws(StateStoreError) -> [String: String] {
        var files: [String: String] = [:]
        for folder in folders {
            // A range on the unique index of `file` ("0" sorts right after "/").
            let rows = folder.isEmpty
                ? try db.query("SELECT file, manifest_line FROM stories WHERE instr(file, '/') = 0")
                : try db.query("SELECT file, manifest_line FROM stories WHERE file >= ? AND file < ?", [.text(folder + "/"), .text(folder + "0")])
            for row in rows {
                if let file = row[0].string { files[file] = row[1].string ?? "" }
            }
        }
        return files
    }

    /// Every stored story file (paths relative to the corpus root) with its manifest line.
    public func storedFiles() throws(StateStoreError) -> [String: String] {
        var files: [String: String] = [:]
        for row in try db.query("SELECT file, manifest_line FROM stories") {
            if let file = row[0].string { files[file] = row[1].string ?? "" }
        }
        return files
    }

    /// Every stored story's file, text hash and manifest line (for `feedcorpus verify`).
    public func storedStoryDigests() throws(StateStoreError) -> [(file: String, sha256: String, manifestLine: String)] {
        try db.query("SELECT file, sha256, manifest_line FROM stories ORDER BY id").compactMap { row in
            guard let file = row[0].string, let sha = row[1].string else { return nil }
            return (file, sha, row[2].string ?? "")
        }
    }

    /// The id of the corpus this state writes (also in the corpus root), nil before it is bound.
    public func corpusID() throws(StateStoreError) -> String? {
        try db.query("SELECT value FROM properties WHERE key = 'corpus_id'").first?.first?.string
    }

    public func setCorpusID(_ id: String) throws(StateStoreError) {
        try db.query("INSERT INTO properties(key, value) VALUES('corpus_id', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [.text(id)])
    }

    /// Number of stored stories.
    public func storyCount() throws(StateStoreError) -> Int {
        Int(try db.query("SELECT count(*) FROM stories").first?.first?.int ?? 0)
    }

    /// Every dropped duplicate, oldest first, optionally only those detected since `since`.
    public func duplicates(since: Date? = nil) throws(StateStoreError) -> [DuplicateRecord] {
        let rows = try db.query("""
            SELECT f.url, d.entry_key, d.url, d.title, d.reason, s.file, d.detected_at, d.distance, d.similarity, s.title
            FROM duplicates d JOIN feeds f ON f.id = d.feed_id JOIN stories s ON s.id = d.duplicate_of
            WHERE d.detected_at >= ? ORDER BY d.id
            """, [.real(since?.timeIntervalSince1970 ?? 0)])
        return rows.compactMap { row in
            guard let feed = row[0].string, let key = row[1].string, let reason = row[4].string.flatMap(DuplicateReason.init(rawValue:)),
                  let of = row[5].string, let at = row[6].date else { return nil }
            return DuplicateRecord(feedURL: feed, entryKey: key, url: row[2].string, title: row[3].string, reason: reason, duplicateOf: of,
                                   distance: row[7].int.map(Int.init), similarity: row[8].double, detectedAt: at,
                                   duplicateOfTitle: row[9].string)
        }
    }

    /// The feed's schedule (see `FeedSchedule`).
    public func schedule(feedID: Int64) throws(StateStoreError) -> FeedSchedule {
        guard let row = try db.query("""
            SELECT fetch_url, pending_redirect, pending_redirect_count, next_poll_at, disabled_reason, freshness_lifetime,
                   consecutive_errors, poll_interval, window_overflows
            FROM feeds WHERE id = ?
            """, [.integer(feedID)]).first else { return FeedSchedule() }
        return FeedSchedule(fetchURL: row[0].string, pendingRedirect: row[1].string, pendingRedirectCount: Int(row[2].int ?? 0),
                            nextPollAt: row[3].date, disabledReason: row[4].string, freshnessLifetime: row[5].double,
                            consecutiveErrors: Int(row[6].int ?? 0), pollInterval: row[7].double, windowOverflows: Int(row[8].int ?? 0))
    }

    /// The earliest instant any enabled feed is due: nil when one is due now (never polled, or
    /// no time set), `.distantFuture` when no feed is enabled at all.
    public func nextDue(feedURLs: [String]) throws(StateStoreError) -> Date? {
        var earliest = Date.distantFuture
        for url in feedURLs {
            guard let row = try db.query("SELECT next_poll_at, disabled_reason FROM feeds WHERE url = ?", [.text(url)]).first else { return nil }
            if row[1].string != nil { continue }
            guard let due = row[0].date else { return nil }
            earliest = min(earliest, due)
        }
        return earliest
    }

    /// Hosts that asked (Retry-After) not to be contacted before an instant still in the future.
    public func hostHolds(now: Date) throws(StateStoreError) -> [String: Date] {
        var holds: [String: Date] = [:]
        for row in try db.query("SELECT host, held_until FROM hosts WHERE held_until > ?", [.real(now.timeIntervalSince1970)]) {
            if let host = row[0].string, let until = row[1].date { holds[host] = until }
        }
        return holds
    }

    /// Remembers that `host` asked not to be contacted before `until`.
    public func holdHost(_ host: String, until: Date) throws(StateStoreError) {
        try db.query("INSERT INTO hosts(host, held_until) VALUES(?, ?) ON CONFLICT(host) DO UPDATE SET held_until = max(held_until, excluded.held_until)",
                     [.text(host), .real(until.timeIntervalSince1970)])
    }

    /// Records one poll and everything it stored, in one transaction; returns the new stories'
    /// ids, in the order of `poll.stored`.
    @discardableResult
    public func commit(_ poll: FeedPollCommit) throws(StateStoreError) -> [Int64] {
        try commit([poll])[0]
    }

    /// Records several polls in one transaction (one flush of the state for all); returns each
    /// poll's new story ids.
    @discardableResult
    public func commit(_ polls: [FeedPollCommit]) throws(StateStoreError) -> [[Int64]] {
        try db.transaction { () throws(StateStoreError) -> [[Int64]] in
            var all: [[Int64]] = []
            for poll in polls { all.append(try record(poll)) }
            return all
        }
    }

    private func record(_ poll: FeedPollCommit) throws(StateStoreError) -> [Int64] {
        do {
            let at = SQLValue.real(poll.polledAt.timeIntervalSince1970)
            var ids: [Int64] = []
            for story in poll.stored {
                let record = story.record
                try db.query("""
                    INSERT INTO stories(file, sha256, simhash, url, feed_id, entry_key, title, published_at, fetched_at, manifest_line,
                                        entry_id, event, event_terms, supersedes, minhash, lead_minhash)
                    VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [
                        .text(record.file), .text(record.sha256), .integer(Int64(bitPattern: story.simhash)),
                        .optional(record.url), .integer(poll.feedID), .text(story.entryKey), .text(record.title),
                        .optional(record.published), .real(record.fetched.timeIntervalSince1970),
                        .text(try Self.manifestLine(record, path: path)),
                        .optional(record.entryID), .optional(record.event), .text(story.eventTerms),
                        story.supersedes.map(SQLValue.integer) ?? .null, .blob(story.minhash), .blob(story.leadMinhash),
                    ])
                let storyID = db.lastInsertRowID
                ids.append(storyID)
                try db.query("INSERT OR REPLACE INTO entries(feed_id, entry_key, first_seen_at, outcome, story_id) VALUES(?, ?, ?, 'stored', ?)",
                             [.integer(poll.feedID), .text(story.entryKey), at, .integer(storyID)])
            }
            for duplicate in poll.duplicates {
                guard let original = try db.query("SELECT id FROM stories WHERE file = ?", [.text(duplicate.duplicateOf)]).first?.first?.int else {
                    throw StateStoreError(path: path, operation: "record duplicate", message: "story \(duplicate.duplicateOf) is not in the state")
                }
                try db.query("INSERT INTO duplicates(feed_id, entry_key, url, title, reason, duplicate_of, detected_at, distance, similarity) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [.integer(poll.feedID), .text(duplicate.entryKey), .optional(duplicate.url), .optional(duplicate.title),
                              .text(duplicate.reason.rawValue), .integer(original), .real(duplicate.detectedAt.timeIntervalSince1970),
                              duplicate.distance.map { SQLValue.integer(Int64($0)) } ?? .null,
                              duplicate.similarity.map(SQLValue.real) ?? .null])
                try db.query("INSERT OR REPLACE INTO entries(feed_id, entry_key, first_seen_at, outcome, story_id) VALUES(?, ?, ?, 'duplicate', ?)",
                             [.integer(poll.feedID), .text(duplicate.entryKey), at, .integer(original)])
            }
            for key in poll.emptyEntryKeys {
                try db.query("INSERT OR IGNORE INTO entries(feed_id, entry_key, first_seen_at, outcome) VALUES(?, ?, ?, 'empty')",
                             [.integer(poll.feedID), .text(key), at])
            }
            if poll.result == .error {
                try db.query("UPDATE feeds SET last_poll_at = ?, last_result = ?, last_error = ?, consecutive_errors = consecutive_errors + 1 WHERE id = ?",
                             [at, .text(poll.result.rawValue), .optional(poll.error), .integer(poll.feedID)])
            } else if poll.result == .held {
                // Waiting for the host (Retry-After) is not the feed's failure: the error count stays.
                try db.query("UPDATE feeds SET last_poll_at = ?, last_result = ?, last_error = ? WHERE id = ?",
                             [at, .text(poll.result.rawValue), .optional(poll.error), .integer(poll.feedID)])
            } else {
                try db.query("UPDATE feeds SET last_poll_at = ?, last_result = ?, last_error = NULL, consecutive_errors = 0 WHERE id = ?",
                             [at, .text(poll.result.rawValue), .integer(poll.feedID)])
            }
            if let schedule = poll.schedule {
                try db.query("""
                    UPDATE feeds SET fetch_url = ?, pending_redirect = ?, pending_redirect_count = ?, next_poll_at = ?,
                        disabled_reason = ?, freshness_lifetime = ?, poll_interval = ?, window_overflows = ? WHERE id = ?
                    """, [.optional(schedule.fetchURL), .optional(schedule.pendingRedirect), .integer(Int64(schedule.pendingRedirectCount)),
                          .optional(schedule.nextPollAt), .optional(schedule.disabledReason),
                          schedule.freshnessLifetime.map(SQLValue.real) ?? .null, schedule.pollInterval.map(SQLValue.real) ?? .null,
                          .integer(Int64(schedule.windowOverflows)), .integer(poll.feedID)])
            }
            if let http = poll.http {
                try db.query("UPDATE feeds SET etag = ?, last_modified = ?, body_sha256 = ? WHERE id = ?",
                             [.optional(http.etag), .optional(http.lastModified), .optional(http.bodySHA256), .integer(poll.feedID)])
            }
            return ids
        }
    }

    private static func manifestLine(_ record: StoryRecord, path: String) throws(StateStoreError) -> String {
        do {
            return try record.jsonLine()
        } catch {
            throw StateStoreError(path: path, operation: "encode the manifest line of \(record.file)", message: "\(error)")
        }
    }
}
