import Foundation

// Feeds: ids, schedules, poll outcomes, host holds.
extension StateStore {
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
                   (SELECT count(*) FROM duplicates d WHERE d.feed_id = f.id),
                   f.backfilled_stories, f.last_backfill_at, f.last_backfill,
                   EXISTS(SELECT 1 FROM backfills b WHERE b.feed_id = f.id)
            FROM feeds f ORDER BY f.id
            """).compactMap { row in
            guard let url = row[0].string, let name = row[1].string else { return nil }
            var status = FeedStatus(url: url, name: name, lastPollAt: row[2].date, lastResult: row[3].string.flatMap(PollResult.init(rawValue:)), lastError: row[4].string,
                                    consecutiveErrors: Int(row[5].int ?? 0), nextPollAt: row[6].date, pollInterval: row[7].double,
                                    disabledReason: row[8].string, fetchURL: row[9].string, windowOverflows: Int(row[10].int ?? 0),
                                    storiesStored: Int(row[11].int ?? 0), duplicatesDropped: Int(row[12].int ?? 0))
            status.backfilledStories = Int(row[13].int ?? 0)
            status.lastBackfillAt = row[14].date
            status.lastBackfill = row[15].string
            status.backfillPending = (row[16].int ?? 0) != 0
            return status
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
}

// Backfill jobs.
extension StateStore {
    /// The backfills under way, by feed id.
    public func backfillJobs() throws(StateStoreError) -> [Int64: BackfillJob] {
        var jobs: [Int64: BackfillJob] = [:]
        for row in try db.query("SELECT feed_id, job FROM backfills") {
            guard let id = row[0].int, let text = row[1].string else { continue }
            if let job = Self.decodeJob(text) {
                jobs[id] = job
            } else {
                // A job this version cannot read is dropped, not fatal: the next overflow starts another.
                try db.query("DELETE FROM backfills WHERE feed_id = ?", [.integer(id)])
            }
        }
        return jobs
    }

    /// The backfill under way for one feed, if any.
    public func backfillJob(feedID: Int64) throws(StateStoreError) -> BackfillJob? {
        guard let text = try db.query("SELECT job FROM backfills WHERE feed_id = ?", [.integer(feedID)]).first?.first?.string else { return nil }
        return Self.decodeJob(text)
    }

    /// A saved job, or nil when this version cannot read it.
    static func decodeJob(_ text: String) -> BackfillJob? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try? decoder.decode(BackfillJob.self, from: Data(text.utf8))
    }

    /// Every feed's id by its configured URL.
    public func feedIDs() throws(StateStoreError) -> [String: Int64] {
        var ids: [String: Int64] = [:]
        for row in try db.query("SELECT url, id FROM feeds") {
            if let url = row[0].string, let id = row[1].int { ids[url] = id }
        }
        return ids
    }

    /// Where a feed's known entries end in time: the newest publication date of its stored
    /// stories, else its last poll; nil for a feed never read.
    public func newestKnownDate(feedID: Int64) throws(StateStoreError) -> Date? {
        if let newest = try db.query("SELECT max(published_at) FROM stories WHERE feed_id = ?", [.integer(feedID)]).first?.first?.date {
            return newest
        }
        return try db.query("SELECT last_poll_at FROM feeds WHERE id = ?", [.integer(feedID)]).first?.first?.date
    }
}
