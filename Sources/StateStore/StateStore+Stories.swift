import FeedModel
import Foundation

// Stored stories, their fingerprints and the dropped duplicates.
extension StateStore {
    /// The stored story whose normalised text has this SHA-256, if any.
    public func story(sha256: String) throws(StateStoreError) -> StoredStoryRef? {
        try story(.sha256, sha256, column: "sha256")
    }

    /// The stored story with this canonical URL, if any (the first stored, when several have it).
    public func story(url: String) throws(StateStoreError) -> StoredStoryRef? {
        try story(.url, url, column: "url")
    }

    /// The stored story whose entry had this id (from any feed), if any (the first stored).
    public func story(entryID: String) throws(StateStoreError) -> StoredStoryRef? {
        try story(.entryID, entryID, column: "entry_id")
    }

    /// The stored story with this row id.
    public func story(id: Int64) throws(StateStoreError) -> StoredStoryRef? {
        guard let row = try db.query("SELECT id, file FROM stories WHERE id = ?", [.integer(id)]).first,
              let id = row[0].int, let file = row[1].string else { return nil }
        return StoredStoryRef(id: id, file: file)
    }

    /// The first stored story whose `column` holds `value`: the in-memory index names the
    /// candidate rows, each read by id and compared.
    private func story(_ kind: StoredKeyIndex.Kind, _ value: String, column: String) throws(StateStoreError) -> StoredStoryRef? {
        var found: StoredStoryRef?
        for id in try keys().candidates(kind, value).sorted() {
            guard let row = try db.query("SELECT file, \(column) FROM stories WHERE id = ?", [.integer(id)]).first,
                  let file = row[0].string, row[1].string == value else { continue }
            found = StoredStoryRef(id: id, file: file)
            break
        }
        return found
    }

    /// The stored stories' exact keys with their row ids, read from the table at the first call
    /// and kept up to date by every insert after it.
    func keys() throws(StateStoreError) -> StoredKeyIndex {
        if let storedKeys { return storedKeys }
        var index = StoredKeyIndex()
        try db.forEachRow("SELECT id, sha256, url, entry_id FROM stories") { row in
            guard let id = row[0].int else { return }
            if let sha256 = row[1].string { index.insert(.sha256, sha256, rowID: id) }
            if let url = row[2].string { index.insert(.url, url, rowID: id) }
            if let entryID = row[3].string { index.insert(.entryID, entryID, rowID: id) }
        }
        storedKeys = index
        return index
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
}
