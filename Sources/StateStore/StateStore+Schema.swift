import Foundation

// The schema and its migrations, applied when a state is opened for writing.
extension StateStore {
    /// Brings the schema to `target` (the current version but in tests of an upgrade).
    func migrate(to target: Int64) throws(StateStoreError) {
        let version = try db.query("PRAGMA user_version").first?.first?.int ?? 0
        if version > Self.schemaVersion {
            throw StateStoreError(path: path, operation: "open", message: "schema version \(version) is newer than this feedcorpus understands (\(Self.schemaVersion)); upgrade feedcorpus")
        }
        if version < 1 { try createVersion1() }
        if version < 2, target >= 2 {
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
        if version < 3, target >= 3 {
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
        if version < 4, target >= 4 {
            try db.transaction { () throws(StateStoreError) in
                try db.execute("""
                    ALTER TABLE feeds ADD COLUMN poll_interval REAL;
                    ALTER TABLE feeds ADD COLUMN window_overflows INTEGER NOT NULL DEFAULT 0;
                    PRAGMA user_version = 4;
                    """)
            }
        }
        if version < 5, target >= 5 {
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
        if version < 6, target >= 6 {
            // Facts about the state itself: the id of the corpus it writes (see `corpusID`).
            try db.transaction { () throws(StateStoreError) in
                try db.execute("""
                    CREATE TABLE properties(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                    PRAGMA user_version = 6;
                    """)
            }
        }
        if version < 7, target >= 7 {
            // Backfill: the jobs under way and, per feed, what backfills recovered.
            try db.transaction { () throws(StateStoreError) in
                try db.execute("""
                    ALTER TABLE feeds ADD COLUMN backfilled_stories INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE feeds ADD COLUMN last_backfill_at REAL;
                    ALTER TABLE feeds ADD COLUMN last_backfill TEXT;
                    CREATE TABLE backfills(feed_id INTEGER PRIMARY KEY REFERENCES feeds(id), job TEXT NOT NULL);
                    CREATE INDEX stories_feed ON stories(feed_id, published_at);
                    PRAGMA user_version = 7;
                    """)
            }
        }
        if version < 8, target >= 8 { try dropRandomKeyIndexes() }
    }

    /// Version 8: the stories' text hashes, URLs and entry ids are looked up in memory
    /// (`StoredKeyIndex`), no longer in B-tree indexes whose upkeep dirtied a page of each per
    /// insert and made a commit's writes grow with the table. The UNIQUE of `sha256` lives in
    /// the table's definition, so the table is rebuilt (SQLite's documented way to change a
    /// table: foreign keys off, copy, drop, rename, check, in one transaction). One text stays
    /// one story: the commit refuses a second (see `record`) and `verify` reports one.
    func dropRandomKeyIndexes() throws(StateStoreError) {
        try db.execute("PRAGMA foreign_keys=OFF")
        defer { try? db.execute("PRAGMA foreign_keys=ON") }
        try db.transaction { () throws(StateStoreError) in
            // The table as it is, less the UNIQUE of `sha256`: every column (those added by ALTER
            // TABLE too) keeps its definition and place, so the rows copy over as they are.
            let unique = "sha256 TEXT NOT NULL UNIQUE"
            guard let definition = try db.query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'stories'").first?.first?.string,
                  definition.hasPrefix("CREATE TABLE stories("), definition.contains(unique) else {
                throw StateStoreError(path: path, operation: "upgrade the schema to version 8",
                                      message: "the stories table is not as version 7 made it; the state is left at version 7. Restore it from a backup")
            }
            let rebuilt = "CREATE TABLE stories_v8(" + definition.dropFirst("CREATE TABLE stories(".count)
                .replacingOccurrences(of: unique, with: "sha256 TEXT NOT NULL")
            try db.execute("""
                \(rebuilt);
                INSERT INTO stories_v8 SELECT * FROM stories;
                DROP TABLE stories;
                ALTER TABLE stories_v8 RENAME TO stories;
                CREATE INDEX stories_fetched ON stories(fetched_at);
                CREATE INDEX stories_feed ON stories(feed_id, published_at);
                """)
            let broken = try db.query("PRAGMA foreign_key_check")
            if !broken.isEmpty {
                throw StateStoreError(path: path, operation: "upgrade the schema to version 8",
                                      message: "\(broken.count) rows refer to rows that do not exist (first: \(broken[0])); the state is left at version 7. Restore it from a backup")
            }
            try db.execute("PRAGMA user_version = 8")
        }
    }

    func createVersion1() throws(StateStoreError) {
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
}
