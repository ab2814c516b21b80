import FeedModel
import Foundation

// Recording polls: one transaction per group of polls.
extension StateStore {
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

    func record(_ poll: FeedPollCommit) throws(StateStoreError) -> [Int64] {
        do {
            let at = SQLValue.real(poll.polledAt.timeIntervalSince1970)
            var ids: [Int64] = []
            for story in poll.stored {
                let record = story.record
                // The table has no unique index on the text hash (see `StoredKeyIndex`): the
                // in-memory index refuses a second story with one text, and the poll rolls back.
                if let existing = try self.story(sha256: record.sha256) {
                    throw StateStoreError(path: path, operation: "store \(record.file)",
                                          message: "its text (sha256 \(record.sha256)) is already stored as \(existing.file); nothing of this poll was recorded")
                }
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
                // Loaded by the check above; a row rolled back later stays a candidate that its
                // row (gone, or another story's) rules out.
                storedKeys?.insert(.sha256, record.sha256, rowID: storyID)
                if let url = record.url { storedKeys?.insert(.url, url, rowID: storyID) }
                if let entryID = record.entryID { storedKeys?.insert(.entryID, entryID, rowID: storyID) }
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
            try recordBackfill(poll, at: at)
            if !poll.recordsPoll {
                return ids
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

    /// A backfill's part of a commit: its job row, its result and its count of stories.
    private func recordBackfill(_ poll: FeedPollCommit, at: SQLValue) throws(StateStoreError) {
        if !poll.recordsPoll, !poll.stored.isEmpty {
            try db.query("UPDATE feeds SET backfilled_stories = backfilled_stories + ? WHERE id = ?",
                         [.integer(Int64(poll.stored.count)), .integer(poll.feedID)])
        }
        switch poll.backfill {
        case nil:
            break
        case let .start(job), let .progress(job):
            try db.query("INSERT OR REPLACE INTO backfills(feed_id, job) VALUES(?, ?)", [.integer(poll.feedID), .text(try Self.encode(job, path: path))])
        case let .finish(result):
            try db.query("DELETE FROM backfills WHERE feed_id = ?", [.integer(poll.feedID)])
            try db.query("UPDATE feeds SET last_backfill_at = ?, last_backfill = ? WHERE id = ?", [at, .text(result), .integer(poll.feedID)])
        }
    }

    static func encode(_ job: BackfillJob, path: String) throws(StateStoreError) -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        do {
            return String(decoding: try encoder.encode(job), as: UTF8.self)
        } catch {
            throw StateStoreError(path: path, operation: "save a backfill", message: "\(error)")
        }
    }

    static func manifestLine(_ record: StoryRecord, path: String) throws(StateStoreError) -> String {
        do {
            return try record.jsonLine()
        } catch {
            throw StateStoreError(path: path, operation: "encode the manifest line of \(record.file)", message: "\(error)")
        }
    }
}
