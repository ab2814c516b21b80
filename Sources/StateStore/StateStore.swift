import CSQLite
import FeedModel
import Foundation

/// The persistent state: feeds, seen entries, stored stories and dropped duplicates, in one
/// SQLite file in WAL mode. One owner at a time (the process holds the state lock).
public final class StateStore {
    static let schemaVersion: Int64 = 8
    let db: SQLiteConnection
    public let path: String
    /// Loaded at the first exact-key lookup (`story(sha256:)`, `story(url:)`, `story(entryID:)`)
    /// or commit of a story.
    var storedKeys: StoredKeyIndex?

    /// Opens (and creates or migrates) the state database at `path`, creating its folder.
    public convenience init(path: String) throws(StateStoreError) {
        try self.init(path: path, schemaVersion: Self.schemaVersion)
    }

    /// Opens the state at `path` with its schema brought to `schemaVersion` (an older one only
    /// in the tests of an upgrade).
    init(path: String, schemaVersion: Int64) throws(StateStoreError) {
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
        // A checkpoint copies the WAL's pages into the database and syncs it, inside the commit
        // that crosses the threshold. SQLite's default (1,000 pages, 4 MB) checkpoints after
        // nearly every group commit of a large pass, whose index pages are scattered; at 16,384
        // pages (64 MB) a page changed by many commits is copied once per checkpoint. The WAL is
        // cut back to 64 MB after a checkpoint. Durability is the same: every commit syncs the WAL.
        try db.execute("""
            PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;
            PRAGMA wal_autocheckpoint=16384; PRAGMA journal_size_limit=67108864;
            """)
        try migrate(to: schemaVersion)
    }

    private init(path: String, connection: SQLiteConnection) {
        self.path = path
        db = connection
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
}
