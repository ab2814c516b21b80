import ClusterState
import CorpusWriter
import Dedupe
import FeedConfig
import FeedModel
import Foundation
import Pipeline

/// A worker's store step and its dedupe indexes: one poll at a time, each in one transaction that
/// checks the lease; brings the indexes up to the stories other workers committed and reads the
/// stored stories the decision needs (exact keys, near-duplicate candidates) in a few queries;
/// then takes the cluster's commit lock, reads the stories committed since (usually none or a
/// few), decides with the single machine's code (`DecidedPoll.decide`), and commits the stories
/// with their texts, a statement per table. The new stories join the indexes only after the COMMIT.
///
/// A value owned by one task (the worker's store loop): the indexes are this worker's alone.
public struct ClusterStoryStore: Sendable {
    let database: ClusterDatabase
    var deduplicator: Deduplicator
    /// The last story sequence number the indexes hold.
    public private(set) var position: Int64
    let clock: @Sendable () -> Date

    /// Indexes every committed story's fingerprints (and the events of those recent enough to
    /// matter), as the single machine does at start-up.
    public static func open(database: ClusterDatabase, dedupe: DedupeSettings,
                            clock: @escaping @Sendable () -> Date = { Date() }) async throws -> ClusterStoryStore {
        let rule = NearDuplicateRule(simhashDistance: dedupe.nearDuplicateDistance, jaccard: dedupe.nearDuplicateJaccard,
                                     containment: dedupe.nearDuplicateContainment, keepLonger: dedupe.nearDuplicates == .keepLonger)
        let since = clock().addingTimeInterval(-4 * dedupe.eventWindowHours * 3600)
        var stored: [Deduplicator.StoredFingerprint] = []
        var grouper = EventGrouper(window: dedupe.eventWindowHours * 3600, threshold: dedupe.eventThreshold)
        var position: Int64 = 0
        while true {
            let page = try await database.fingerprints(after: position, limit: 20_000)
            guard let last = page.last else { break }
            for (seq, fingerprint) in page {
                stored.append(Self.stored(seq: seq, fingerprint))
                if fingerprint.eventAt >= since { grouper.add(Self.member(seq: seq, fingerprint)) }
            }
            position = last.seq
        }
        return ClusterStoryStore(database: database, deduplicator: Deduplicator(rule: rule, stored: stored, events: grouper),
                                 position: position, clock: clock)
    }

    /// What one store step did.
    public struct Stored: Sendable {
        public var report: FeedRunReport
        /// The committed stories' sequence numbers.
        public var seqs: [Int64]
        /// How long this step held the commit lock (nil: the poll had no new entry, no lock).
        public var lockHeld: Duration?
    }

    /// Decides and commits `poll` under `lease`. Throws the state's error (`leaseLost`: the
    /// poll's results are discarded; a unique key already taken: nothing is committed).
    public mutating func store(_ poll: ParsedPoll, under lease: FeedLease) async throws -> Stored {
        let fetched = clock()
        var pending: [PendingStory] = []
        var decided: DecidedPoll?
        var staged: [String: [Int64]] = [:]
        var position = self.position
        var deduplicator = self.deduplicator
        // Moved out of self while the transaction runs (the closure cannot capture self
        // mutably); put back whatever happens.
        self.deduplicator = Deduplicator(rule: deduplicator.rule, stored: [], events: EventGrouper(window: 0, threshold: 1))
        defer {
            self.deduplicator = deduplicator
            self.position = position
        }
        let result: (commit: ClusterPollCommit, seqs: [Int64], lockHeld: Duration?)
        do {
            result = try await database.storePoll(under: lease) { transaction in
                let seen = try await transaction.seenEntryKeys(feedID: poll.feedID, among: poll.keys)
                let fresh = poll.entries.filter { !seen.contains($0.key) }
                var lookup = ClusterStoryLookup()
                if !fresh.isEmpty {
                    // Before the commit lock: the catch-up and the reads, as of now.
                    try await Self.catchUp(&deduplicator, position: &position, transaction: transaction)
                    let stories = fresh.map(\.story)
                    lookup.add(try await transaction.stories(urls: stories.flatMap(\.urls), entryIDs: stories.compactMap(\.globalID),
                                                            sha256s: stories.map(\.fingerprint.sha256)))
                    let read = Set(stories.flatMap { deduplicator.storedStoriesToCheck(for: $0) })
                    lookup.add(try await transaction.comparables(read.sorted()))
                    // The texts and shingles of the stories that may be stored (not already
                    // stored by an exact key), written before the lock: the lock covers small rows.
                    var bodies: [(sha256: String, text: String, shingles: [UInt64]?)] = []
                    for story in stories where !story.text.isEmpty {
                        guard try lookup.story(sha256: story.fingerprint.sha256) == nil,
                              try story.urls.allSatisfy({ try lookup.story(url: $0) == nil }),
                              try story.globalID.map({ try lookup.story(entryID: $0) == nil }) ?? true else { continue }
                        bodies.append((story.fingerprint.sha256, story.text.fileContents, story.proseShingles))
                    }
                    for body in try await transaction.stageBodies(bodies) { staged[body.sha256, default: []].append(body.id) }
                    // Under it: the few stories committed since, so that the decision sees every
                    // committed story (and what the exact check compares of those that are
                    // candidates); nothing else commits until this transaction ends.
                    let since = try await transaction.lockCommitsReadingCommitted(after: position)
                    if let last = since.last {
                        deduplicator.catchUp(since.map { Self.stored(seq: $0.keys.seq, $0.fingerprint) },
                                             events: since.map { Self.member(seq: $0.keys.seq, $0.fingerprint) })
                        position = last.keys.seq
                        lookup.add(since.map(\.keys))
                    }
                    let missing = Set(stories.flatMap { deduplicator.storedStoriesToCheck(for: $0) }).subtracting(read)
                    if !missing.isEmpty { lookup.add(try await transaction.comparables(missing.sorted())) }
                }
                let decision = try DecidedPoll.decide(poll, seen: seen, fetched: fetched, deduplicator: &deduplicator, lookup: lookup,
                                                      pending: &pending)
                decided = decision
                return try Self.commit(for: decision, pending: pending, staged: staged)
            }
        } catch {
            deduplicator.discardBatch()
            throw error
        }
        deduplicator.commit(ids: result.seqs)
        position = max(position, result.seqs.max() ?? 0)
        guard let decided else { throw ClusterStoreError("the store step ended without a decision for \(poll.feed.url)") }
        // The materializer names the files; the report names the stories by their text hash.
        let records = pending.map { story in
            var record = story.record
            record.file = "sha256:" + record.sha256
            return record
        }
        return Stored(report: decided.storedReport(records: records, fetched: fetched), seqs: result.seqs, lockHeld: result.lockHeld)
    }

    /// Adds the stories committed since `position` to the indexes.
    static func catchUp(_ deduplicator: inout Deduplicator, position: inout Int64, transaction: ClusterStoreTransaction) async throws {
        while true {
            let page = try await transaction.fingerprints(after: position, limit: 5_000)
            guard let last = page.last else { return }
            deduplicator.catchUp(page.map { stored(seq: $0.seq, $0.fingerprint) }, events: page.map { member(seq: $0.seq, $0.fingerprint) })
            position = last.seq
        }
    }

    /// The poll's commit: its stories with their texts and fingerprints (a story whose text was
    /// staged names its body), its duplicates named by the text hash of the story they repeat,
    /// its empty entries, validators and next schedule, and the staged bodies no story uses.
    static func commit(for decided: DecidedPoll, pending: [PendingStory], staged: [String: [Int64]] = [:]) throws -> ClusterPollCommit {
        let poll = decided.poll
        var stories: [ClusterStory] = []
        var unused = staged
        for accepted in decided.accepted {
            let story = pending[accepted.index]
            let incoming = accepted.story
            let fingerprint = incoming.fingerprint
            // Bodies are staged by text hash from the same entries' texts, so one of them holds this text.
            let bodyID = unused[fingerprint.sha256]?.popLast()
            stories.append(ClusterStory(
                entryKey: accepted.key, sha256: fingerprint.sha256, url: story.record.url, entryID: incoming.globalID,
                record: try story.record.jsonLine(), text: story.text.fileContents,
                fingerprint: ClusterFingerprint(simhash: fingerprint.simhash, minhash: fingerprint.signature.bytes,
                                                leadMinhash: fingerprint.leadSignature.bytes, title: story.text.headline,
                                                event: story.record.event ?? "", eventTerms: incoming.terms.serialized, eventAt: incoming.at),
                shingles: incoming.proseShingles, bodyID: bodyID))
        }
        var duplicates: [ClusterDuplicate] = []
        for drop in decided.dropped {
            let original: String
            switch drop.of {
            case let .stored(story):
                guard let sha256 = ClusterStoryLookup.sha256(of: story) else {
                    throw ClusterStoreError("duplicate \(drop.key) of \(poll.feed.url) names a stored story without a text hash")
                }
                original = sha256
            case let .batch(index): original = pending[index].record.sha256
            }
            duplicates.append(ClusterDuplicate(entryKey: drop.key, url: drop.url, title: drop.title, reason: drop.reason.rawValue,
                                               duplicateOfSHA256: original, distance: drop.near?.distance,
                                               similarity: drop.near.map { max($0.jaccard, $0.containment) }))
        }
        let schedule = poll.nextSchedule(windowOverflow: decided.report.windowOverflow)
        return ClusterPollCommit(
            stories: stories, duplicates: duplicates, emptyEntryKeys: decided.empty, nextPollAt: schedule.nextPollAt ?? poll.polledAt,
            result: "ok", httpState: try ClusterPollState.json(poll.http), schedule: try ClusterPollState.json(schedule),
            unusedBodyIDs: unused.values.flatMap { $0 }.sorted())
    }

    static func stored(seq: Int64, _ fingerprint: ClusterFingerprint) -> Deduplicator.StoredFingerprint {
        let empty = MinHashSignature(slots: [], shingleCount: 0)
        return Deduplicator.StoredFingerprint(
            id: seq, simhash: fingerprint.simhash, signature: MinHashSignature(bytes: fingerprint.minhash) ?? empty,
            leadSignature: MinHashSignature(bytes: fingerprint.leadMinhash) ?? empty, headlineHash: TextFingerprint.headlineHash(fingerprint.title))
    }

    static func member(seq: Int64, _ fingerprint: ClusterFingerprint) -> EventGrouper.Member {
        EventGrouper.Member(id: seq, event: fingerprint.event, terms: EventTerms(serialized: fingerprint.eventTerms), at: fingerprint.eventAt)
    }
}

/// A store step that could not go on, and why.
public struct ClusterStoreError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The stored stories a decision reads, fetched beforehand in the store step's transaction: by
/// exact key, and the near-duplicate candidates' headlines and shingles. A stored story is named
/// by its sequence number, and its "file" is `sha256:<text hash>` (the materializer gives the
/// file names).
struct ClusterStoryLookup: StoredStoryLookup {
    private var byURL: [String: StoredStoryRef] = [:]
    private var byEntryID: [String: StoredStoryRef] = [:]
    private var bySHA256: [String: StoredStoryRef] = [:]
    private var comparables: [Int64: ClusterComparable] = [:]

    mutating func add(_ keys: [ClusterStoredKeys]) {
        for key in keys {
            let ref = StoredStoryRef(id: key.seq, file: "sha256:" + key.sha256)
            bySHA256[key.sha256] = ref
            if let url = key.url { byURL[url] = ref }
            if let id = key.entryID { byEntryID[id] = ref }
        }
    }

    mutating func add(_ found: [Int64: ClusterComparable]) {
        comparables.merge(found) { _, new in new }
    }

    static func sha256(of story: StoredStoryRef) -> String? {
        story.file.hasPrefix("sha256:") ? String(story.file.dropFirst(7)) : nil
    }

    func story(url: String) throws -> StoredStoryRef? { byURL[url] }
    func story(entryID: String) throws -> StoredStoryRef? { byEntryID[entryID] }
    func story(sha256: String) throws -> StoredStoryRef? { bySHA256[sha256] }
    func story(id: Int64) throws -> StoredStoryRef? {
        comparables[id].map { StoredStoryRef(id: id, file: "sha256:" + $0.sha256) }
    }

    func fileSize(of story: StoredStoryRef) -> Int? { comparables[story.id]?.textBytes }

    func text(of story: StoredStoryRef) -> StoryText? {
        comparables[story.id]?.text.map { StoryText(fileContents: $0) }
    }

    func comparable(of story: StoredStoryRef) -> (headline: String, shingles: [UInt64])? {
        guard let stored = comparables[story.id] else { return nil }
        if let shingles = stored.shingles { return (stored.headline, shingles) }
        return text(of: story).map { ($0.headline, TextFingerprint.proseShingles(of: $0)) }
    }
}
