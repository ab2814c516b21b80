import ArticleExtractor
import CorpusWriter
import FeedConfig
import Crypto
import Dedupe
import FeedModel
import FeedParser
import Foundation
import StateStore

/// The single owner of the state database, the corpus writer and the `Deduplicator`. Dedupe
/// decisions, file writes and state commits for one feed happen here in one step, so two feeds
/// carrying the same story cannot both store it.
actor Ingestor {
    private let state: StateStore
    private let writer: CorpusWriter
    private var deduplicator: Deduplicator
    private let clock: @Sendable () -> Date

    private let quarantine: String

    init(statePath: String, corpusRoot: String, layout: CorpusLayout, dedupe: DedupeSettings,
         clock: @escaping @Sendable () -> Date) throws {
        state = try StateStore(path: statePath)
        writer = try CorpusWriter(root: corpusRoot, layout: layout)
        quarantine = CorpusBinding.quarantine(statePath: statePath)
        try CorpusBinding.bind(state: state, statePath: statePath, writer: writer)
        self.clock = clock
        let rule = NearDuplicateRule(simhashDistance: dedupe.nearDuplicateDistance, jaccard: dedupe.nearDuplicateJaccard,
                                     containment: dedupe.nearDuplicateContainment, keepLonger: dedupe.nearDuplicates == .keepLonger)
        let stored = try Self.loadFingerprints(state: state, corpusRoot: corpusRoot)
        var grouper = EventGrouper(window: dedupe.eventWindowHours * 3600, threshold: dedupe.eventThreshold)
        let since = clock().addingTimeInterval(-4 * dedupe.eventWindowHours * 3600)
        for signature in try state.recentEventSignatures(since: since) {
            grouper.add(.init(id: signature.id, event: signature.event, terms: EventTerms(serialized: signature.terms), at: signature.at))
        }
        deduplicator = Deduplicator(rule: rule, stored: stored, events: grouper)
    }

    /// The URL canonicaliser the settings ask for.
    nonisolated static func canonicalizer(for dedupe: DedupeSettings) -> URLCanonicalizer {
        dedupe.trackingParameters.map { URLCanonicalizer(trackingParameters: $0) } ?? URLCanonicalizer()
    }

    /// The stored stories' fingerprints for the near-duplicate indexes. A story stored before
    /// the state kept MinHash signatures (schema 4) gets its fingerprints computed from its file
    /// once; a story whose file is gone is indexed without a signature (it never verifies).
    private static func loadFingerprints(state: StateStore, corpusRoot: String) throws -> [Deduplicator.StoredFingerprint] {
        var stored: [Deduplicator.StoredFingerprint] = []
        var missing: [(index: Int, file: String)] = []
        let empty = MinHashSignature(slots: [], shingleCount: 0)
        try state.forEachFingerprint { row in
            if let whole = row.minhash.flatMap({ MinHashSignature(bytes: $0) }),
               let lead = row.leadMinhash.flatMap({ MinHashSignature(bytes: $0) }) {
                stored.append(.init(id: row.id, simhash: row.simhash, signature: whole, leadSignature: lead,
                                    headlineHash: TextFingerprint.headlineHash(row.title)))
            } else {
                missing.append((stored.count, row.file))
                stored.append(.init(id: row.id, simhash: row.simhash, signature: empty, leadSignature: empty,
                                    headlineHash: TextFingerprint.headlineHash(row.title)))
            }
        }
        guard !missing.isEmpty else { return stored }
        var updates: [(id: Int64, simhash: UInt64, minhash: [UInt8], leadMinhash: [UInt8])] = []
        for (index, file) in missing {
            guard let text = try? String(contentsOfFile: corpusRoot + "/" + file, encoding: .utf8) else { continue }
            let fingerprint = TextFingerprint(story: StoryText(fileContents: text))
            stored[index].simhash = fingerprint.simhash
            stored[index].signature = fingerprint.signature
            stored[index].leadSignature = fingerprint.leadSignature
            updates.append((stored[index].id, fingerprint.simhash, fingerprint.signature.bytes, fingerprint.leadSignature.bytes))
        }
        try state.updateFingerprints(updates)
        return stored
    }

    /// Forgets event members too old to match a story of now (the grouper also does this as
    /// newer stories arrive; this covers a service that stores nothing for days).
    func pruneEvents() {
        deduplicator.pruneEvents(before: clock())
    }

    /// Makes these feeds (all when nil) due now; how many changed.
    func markDue(urls: [String]?) throws -> Int {
        try state.markDue(urls: urls, now: clock())
    }

    /// Brings each feed's next poll forward to its latest allowed time; how many changed.
    func limitNextPolls(_ latest: [(url: String, at: Date)]) throws -> Int {
        try latest.reduce(0) { count, item in count + (try state.limitNextPoll(url: item.url, latest: item.at) ? 1 : 0) }
    }

    /// Cleans up after an interrupted run (see `CorpusWriter.reconcile`).
    func reconcile() throws -> ReconcileReport {
        let folders = writer.foldersToReconcile()
        return try writer.reconcile(folders: folders, known: state.storedFiles(inFolders: folders), quarantine: quarantine)
    }

    /// Registers the feed and returns its id, last validators and schedule.
    func prepare(url: String, name: String) throws -> (Int64, FeedHTTPState, FeedSchedule) {
        let id = try state.feedID(url: url, name: name)
        return (id, try state.httpState(feedID: id), try state.schedule(feedID: id))
    }

    /// Records a poll that stored nothing (a failure, or nothing new to parse).
    func record(feedID: Int64, result: PollResult, error: String?, http: FeedHTTPState?, schedule: FeedSchedule) throws {
        try state.commit(FeedPollCommit(feedID: feedID, polledAt: clock(), result: result, error: error, http: http, schedule: schedule))
    }

    func holdHost(_ host: String, until: Date) throws {
        try state.holdHost(host, until: until)
    }

    func hostHolds(now: Date) throws -> [String: Date] {
        try state.hostHolds(now: now)
    }

    func feedStatuses() throws -> [FeedStatus] {
        try state.feedStatuses()
    }

    func nextDue(_ urls: [String]) -> Date? {
        (try? state.nextDue(feedURLs: urls)) ?? nil
    }

    /// The keys among `keys` that the feed has not seen before.
    func unseenKeys(feedID: Int64, keys: [String]) throws -> Set<String> {
        let seen = try state.seenEntryKeys(feedID: feedID, among: keys)
        return Set(keys.filter { !seen.contains($0) })
    }

    /// The canonical URLs among `urls` that are stored stories' (their pages are not fetched).
    func storedURLs(among urls: [String]) throws -> Set<String> {
        var stored = Set<String>()
        for url in urls where try state.story(url: url) != nil { stored.insert(url) }
        return stored
    }

    /// Stores the new entries of a group of parsed polls (consecutive feeds of the pass, in
    /// configuration order) and records the polls: one corpus write (one flush) and one state
    /// transaction for the group, so the durability cost is paid per group, not per feed.
    ///
    /// Each poll's new entries are decided oldest first (see `chronological`) by the
    /// `Deduplicator`, whose ladder is, the first that matches deciding (see the README):
    /// 1. the feed has seen the entry key before (guid/atom:id, else canonical link): skipped;
    /// 2. the canonical link (or the page's canonical URL) is a stored story's: `same_url`;
    /// 3. a globally unique id (URL, URN, tag) is a stored story's from any feed: `same_id`;
    /// 4. the hash-normalised text is a stored story's: `same_text`;
    /// 5. a verified near duplicate of a stored story: `near_text` (or, with keep_longer, a
    ///    fuller later version is stored and supersedes it).
    /// Then the files are written, the polls are committed, and only then do the new stories
    /// join the indexes. A failed write or commit fails every poll of the group and is thrown
    /// (nothing of them is recorded, so every story is tried again at the next poll).
    func ingest(_ polls: [ParsedPoll]) throws -> [FeedRunReport] {
        let fetched = clock()
        let lookup = StateLookup(state: state, corpusRoot: writer.root)
        var decided: [DecidedPoll] = []
        var pending: [PendingStory] = []
        do {
            for poll in polls {
                decided.append(try decide(poll, fetched: fetched, lookup: lookup, pending: &pending))
            }
        } catch {
            deduplicator.discardBatch()
            throw error
        }

        let records: [StoryRecord]
        do {
            records = try writer.write(pending, fetched: fetched)
        } catch {
            // The caller records each poll as failed, with the error backoff and a log line.
            deduplicator.discardBatch()
            throw error
        }
        var commits: [FeedPollCommit] = []
        for item in decided {
            let poll = item.poll
            let duplicates = item.dropped.map { drop in
                let file: String
                switch drop.of {
                case let .stored(story): file = story.file
                case let .batch(index): file = records[index].file
                }
                return DuplicateRecord(feedURL: URLCredentials.stripped(poll.feed.url), entryKey: drop.key, url: drop.url, title: drop.title, reason: drop.reason,
                                       duplicateOf: file, distance: drop.near?.distance,
                                       similarity: drop.near.map { max($0.jaccard, $0.containment) }, detectedAt: fetched)
            }
            let stories = item.accepted.map { accepted in
                let fingerprint = accepted.story.fingerprint
                return StoryCommit(entryKey: accepted.key, record: records[accepted.index], simhash: fingerprint.simhash,
                                   minhash: fingerprint.signature.bytes, leadMinhash: fingerprint.leadSignature.bytes,
                                   eventTerms: accepted.story.terms.serialized, supersedes: accepted.supersedes?.id)
            }
            var commit = FeedPollCommit(feedID: poll.feedID, polledAt: fetched, result: .ok, http: poll.http, stored: stories,
                                        duplicates: duplicates, emptyEntryKeys: item.empty)
            if let batch = poll.backfillBatch {
                // A backfill's entries: the feed's poll record stays as it is; the job moves on with them.
                commit.recordsPoll = false
                var job = batch.job
                job.count(stored: stories.count, duplicates: duplicates.count, via: batch.via)
                commit.backfill = .progress(job)
            } else {
                commit.schedule = poll.nextSchedule(windowOverflow: item.report.windowOverflow)
                if let start = poll.backfillStart, let job = (try? backfillToStart(poll, start: start, overflow: item.report.windowOverflow)) ?? nil {
                    commit.backfill = .start(job)
                }
            }
            commits.append(commit)
        }
        let ids: [[Int64]]
        do {
            ids = try state.commit(commits)
        } catch {
            // The files are on disk but not in the state: start-up reconciliation removes them.
            deduplicator.discardBatch()
            throw error
        }
        // Only committed stories join the near-duplicate indexes.
        deduplicator.commit(ids: ids.flatMap { $0 })
        return zip(decided, commits).map { item, commit in
            var report = item.storedReport(records: records, fetched: fetched)
            if case let .start(job) = commit.backfill { report.backfillScheduled = job.reason }
            return report
        }
    }

    /// The backfill a stored poll starts: after a window overflow, from the newest entry known
    /// before (less an hour, dates are loose) to the oldest entry in the document; or, on a
    /// feed's first poll with `seed`, `window_hours` back. Never further back than
    /// `window_hours`; a backfill under way for the feed is widened, not lost.
    private func backfillToStart(_ poll: ParsedPoll, start: BackfillStart, overflow: Bool) throws -> BackfillJob? {
        let settings = start.settings
        let now = poll.polledAt
        let earliest = now.addingTimeInterval(-settings.windowHours * 3600)
        let reason: BackfillJob.Reason
        let gapStart: Date
        if overflow {
            reason = .overflow
            gapStart = max(earliest, (try state.newestKnownDate(feedID: poll.feedID) ?? earliest).addingTimeInterval(-3600))
        } else if !poll.previouslyRead, settings.seed, !poll.keys.isEmpty {
            reason = .seed
            gapStart = earliest
        } else {
            return nil
        }
        let gapEnd = max(gapStart, (start.oldestEntry ?? now).addingTimeInterval(60))
        var job = BackfillJob(reason: reason, createdAt: now, gapStart: gapStart, gapEnd: gapEnd, nextArchivePage: start.olderEntriesURL,
                              siteOrigin: start.scope?.origin, pathPrefix: start.scope?.pathPrefix ?? "/")
        if let running = try state.backfillJob(feedID: poll.feedID) {
            job.gapStart = min(job.gapStart, running.gapStart)
            job.gapEnd = max(job.gapEnd, running.gapEnd)
        }
        return job
    }

    /// The backfills under way, by feed id, and every feed's id by URL.
    func backfillJobs() throws -> (jobs: [Int64: BackfillJob], feedIDs: [String: Int64]) {
        let jobs = try state.backfillJobs()
        return (jobs, jobs.isEmpty ? [:] : try state.feedIDs())
    }

    /// Saves a backfill's progress that stored nothing (a sitemap read, a page that led nowhere).
    func saveBackfill(feedID: Int64, job: BackfillJob) throws {
        try state.commit(FeedPollCommit(feedID: feedID, polledAt: clock(), result: .ok, recordsPoll: false, backfill: .progress(job)))
    }

    /// Ends a feed's backfill with the line `status` shows of it.
    func finishBackfill(feedID: Int64, result: String) throws {
        try state.commit(FeedPollCommit(feedID: feedID, polledAt: clock(), result: .ok, recordsPoll: false, backfill: .finish(result: result)))
    }

    /// The keys among `keys` that the feed has seen, and the URLs among `urls` that are stored stories'.
    func known(feedID: Int64, keys: [String], urls: [String]) throws -> Set<String> {
        try state.seenEntryKeys(feedID: feedID, among: keys).union(storedURLs(among: urls))
    }

    private func decide(_ poll: ParsedPoll, fetched: Date, lookup: StateLookup, pending: inout [PendingStory]) throws -> DecidedPoll {
        let seen = try state.seenEntryKeys(feedID: poll.feedID, among: poll.keys)
        return try DecidedPoll.decide(poll, seen: seen, fetched: fetched, deduplicator: &deduplicator, lookup: lookup, pending: &pending)
    }

    /// Keys for every entry; a key repeated inside one document (publishers reuse GUIDs) is made
    /// unique with the entry's link so that neither entry is lost.
    nonisolated static func uniqueKeys(_ entries: [FeedEntry], canonicalizer: URLCanonicalizer) -> [(key: String, entry: FeedEntry)] {
        var used = Set<String>()
        var result: [(key: String, entry: FeedEntry)] = []
        for entry in entries {
            var key = EntryIdentity.key(for: entry, canonicalizer: canonicalizer)
            if used.contains(key) {
                let link = entry.link.map(canonicalizer.canonicalize) ?? ""
                let text = String(sha256Hex(Array(((entry.title ?? "") + (entry.content ?? entry.summary ?? "")).utf8)).prefix(16))
                key += "\u{1F}" + (link.isEmpty ? text : link)
                if used.contains(key) { continue }  // The very same entry twice.
            }
            used.insert(key)
            result.append((key, entry))
        }
        return result
    }

    /// Oldest first: by publication date when every entry has one, else reversed document order
    /// (feeds list the newest first).
    nonisolated static func chronological(_ entries: [(key: String, entry: FeedEntry)]) -> [(key: String, entry: FeedEntry)] {
        let dated = entries.compactMap { item in (item.entry.published ?? item.entry.updated).map { (item, $0) } }
        if dated.count == entries.count {
            return dated.enumerated().sorted { lhs, rhs in
                lhs.element.1 != rhs.element.1 ? lhs.element.1 < rhs.element.1 : lhs.offset > rhs.offset
            }.map(\.element.0)
        }
        return entries.reversed()
    }
}

/// Hex SHA-256 of a byte buffer (for recognising an unchanged feed body).
func sha256Hex(_ bytes: [UInt8]) -> String {
    DecimalText.hex(SHA256.hash(data: bytes))
}
