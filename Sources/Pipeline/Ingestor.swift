import ArticleExtractor
import CorpusWriter
import FeedConfig
import Crypto
import Dedupe
import FeedModel
import FeedParser
import Foundation
import StateStore

/// What happened to one feed in one pass.
public struct FeedRunReport: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case ok
        /// 304, or a body identical to the last one: nothing to parse.
        case notModified
        case failed(String)
        /// Not polled: disabled (410), or not due yet (error backoff, Retry-After).
        case skipped(String)
    }

    public var name: String
    public var url: String
    public var outcome: Outcome
    /// Entries in the document.
    public var entriesSeen = 0
    /// Entries not seen before.
    public var newEntries = 0
    public var stored = 0
    /// Article pages fetched and extracted for this feed's new entries.
    public var pagesFetched = 0
    public var duplicates = 0
    /// Set when the document was malformed but could be read.
    public var warning: String?
    /// Every entry was new although the feed had been read before: entries may have been missed.
    public var windowOverflow = false
    /// The story files this poll stored, relative to the corpus root.
    public var storedFiles: [String] = []
    /// Duplicates dropped by this poll, by reason (`same_url`, `same_id`, `same_text`, `near_text`).
    public var duplicatesByReason: [String: Int] = [:]

    // For metrics.
    /// Body bytes received: the feed document and its article pages.
    public var bytesFetched = 0
    /// How long the feed request took (queueing for the host included) and parsing it.
    public var fetchDuration: Duration?
    public var parseDuration: Duration?
    /// Seconds from each stored story's publication date to its ingestion (stories with a date).
    public var publishToIngestLags: [Double] = []
    /// For a request that carried validators (ETag / Last-Modified): whether the server answered 304.
    public var conditionalGET: ConditionalGETResult?

    public enum ConditionalGETResult: String, Sendable, Equatable {
        case notModified = "not_modified"
        case modified
    }

    public init(name: String, url: String, outcome: Outcome) {
        self.name = name
        self.url = url
        self.outcome = outcome
    }

    public var failed: Bool {
        if case .failed = outcome { return true }
        return false
    }

    public var skipped: Bool {
        if case .skipped = outcome { return true }
        return false
    }
}

/// The single owner of the state database and the corpus writer. Dedupe checks, file writes and
/// state commits for one feed happen here in one step, so two feeds carrying the same story in
/// the same pass cannot both store it.
actor Ingestor {
    private let state: StateStore
    private let writer: CorpusWriter
    private let canonicalizer: URLCanonicalizer
    private let dedupe: DedupeSettings
    private var nearIndex: SimHashIndex
    private var leadIndex: SimHashIndex
    private var events: EventGrouper
    private let clock: @Sendable () -> Date

    init(statePath: String, corpusRoot: String, layout: CorpusLayout, dedupe: DedupeSettings,
         clock: @escaping @Sendable () -> Date) throws {
        state = try StateStore(path: statePath)
        writer = try CorpusWriter(root: corpusRoot, layout: layout)
        self.dedupe = dedupe
        canonicalizer = dedupe.trackingParameters.map { URLCanonicalizer(trackingParameters: $0) } ?? URLCanonicalizer()
        self.clock = clock
        // The near-duplicate index is rebuilt from the fingerprints in the state at start-up.
        var wholeItems: [(id: Int64, fingerprint: UInt64)] = []
        var leadItems: [(id: Int64, fingerprint: UInt64)] = []
        try state.forEachSimHash { id, simhash, lead in
            wholeItems.append((id, simhash))
            if let lead { leadItems.append((id, lead)) }
        }
        nearIndex = SimHashIndex.build(maxDistance: dedupe.nearDuplicateDistance, wholeItems)
        leadIndex = SimHashIndex.build(maxDistance: dedupe.nearDuplicateDistance, leadItems)
        var grouper = EventGrouper(window: dedupe.eventWindowHours * 3600, threshold: dedupe.eventThreshold)
        let since = clock().addingTimeInterval(-4 * dedupe.eventWindowHours * 3600)
        for signature in try state.recentEventSignatures(since: since) {
            grouper.add(.init(id: signature.id, event: signature.event, terms: EventTerms(serialized: signature.terms), at: signature.at))
        }
        events = grouper
    }

    /// Cleans up after an interrupted run (see `CorpusWriter.reconcile`).
    func reconcile() throws -> ReconcileReport {
        let folders = writer.foldersToReconcile()
        return try writer.reconcile(folders: folders, known: state.storedFiles(inFolders: folders))
    }

    /// Registers the feed and returns its id, last validators and schedule.
    func prepare(url: String, name: String) throws -> (Int64, FeedHTTPState, FeedSchedule) {
        let id = try state.feedID(url: url, name: name)
        return (id, try state.httpState(feedID: id), try state.schedule(feedID: id))
    }

    /// Records a poll that stored nothing (a failure, or nothing new to parse).
    func record(feedID: Int64, result: String, error: String?, http: FeedHTTPState?, schedule: FeedSchedule) throws {
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

    /// The entries of `feed` that this poll may store: not seen before in this feed, and whose
    /// canonical link is not a stored story (their article pages are worth fetching).
    func unseenEntries(feedID: Int64, feed: ParsedFeed) throws -> [(key: String, entry: FeedEntry)] {
        let keyed = uniqueKeys(feed.entries)
        let seen = try state.seenEntryKeys(feedID: feedID, among: keyed.map(\.key))
        return try keyed.filter { key, entry in
            guard !seen.contains(key) else { return false }
            if let link = entry.link, try state.story(url: canonicalizer.canonicalize(link)) != nil { return false }
            return true
        }
    }

    /// Stores the new entries of a parsed feed and records the poll.
    ///
    /// Identity, in this order (the first that matches decides; see the README):
    /// 1. the feed has seen the entry key before (guid/atom:id, else canonical link): skipped;
    /// 2. the canonical link is a stored story's: duplicate `same_url`, not fetched again;
    /// 3. a globally unique id (URL, URN, tag) is a stored story's from any feed: `same_id`;
    /// 4. the hash-normalised text is a stored story's: `same_text`;
    /// 5. the SimHash is within the configured distance of a stored story's: `near_text` (or,
    ///    with keep_longer, a fuller later version is stored and supersedes it).
    func ingest(feedID: Int64, source: (name: String, url: String), feed: ParsedFeed, http: FeedHTTPState,
                pages: [String: ExtractedArticle] = [:], report: FeedRunReport, previouslyRead: Bool,
                schedule: @Sendable (_ windowOverflow: Bool) -> FeedSchedule) throws -> FeedRunReport {
        var report = report
        let fetched = clock()
        report.entriesSeen = feed.entries.count
        let keyed = uniqueKeys(feed.entries)
        let seen = try state.seenEntryKeys(feedID: feedID, among: keyed.map(\.key))
        let fresh = chronological(keyed.filter { !seen.contains($0.key) })
        report.newEntries = fresh.count
        report.windowOverflow = previouslyRead && keyed.count >= 2 && seen.isEmpty
        var pending: [PendingStory] = []
        var pendingKeys: [String] = []
        var pendingExtras: [(eventTerms: String, supersedes: Int64?, leadSimHash: UInt64)] = []
        var batchFingerprints: [TextFingerprint] = []
        var batchURLs: [String: Int] = [:]
        var duplicates: [DuplicateRecord] = []
        var batchDuplicates: [(key: String, entry: FeedEntry, index: Int, reason: DuplicateReason, distance: Int?)] = []
        var empty: [String] = []
        func drop(_ key: String, _ entry: FeedEntry, _ url: String?, _ reason: DuplicateReason, of file: String, distance: Int? = nil) {
            duplicates.append(DuplicateRecord(feedURL: source.url, entryKey: key, url: url, title: entry.title, reason: reason,
                                              duplicateOf: file, distance: distance, detectedAt: fetched))
        }
        for (key, entry) in fresh {
            let url = entry.link.map(canonicalizer.canonicalize)
            if let url {
                if let stored = try state.story(url: url) {
                    drop(key, entry, url, .sameURL, of: stored.file)
                    continue
                }
                if let index = batchURLs[url] {
                    batchDuplicates.append((key, entry, index, .sameURL, nil))
                    continue
                }
            }
            if let id = entry.id, EntryIdentity.isGloballyUnique(id), let stored = try state.story(entryID: id) {
                drop(key, entry, url, .sameID, of: stored.file)
                continue
            }
            var text = StoryBuilder.story(from: entry)
            var textSource = TextSource.feed
            let page = pages[key]
            if let page {
                if let canonical = page.canonicalURL.map(canonicalizer.canonicalize), canonical != url,
                   let stored = try state.story(url: canonical) {
                    drop(key, entry, url, .sameURL, of: stored.file)
                    continue
                }
                (text, textSource) = FullTextRules.choose(feed: text, page: page)
            }
            if text.isEmpty {
                empty.append(key)
                continue
            }
            let fingerprint = TextFingerprint(story: text)
            if let stored = try state.story(sha256: fingerprint.sha256) {
                drop(key, entry, url, .sameText, of: stored.file)
                continue
            }
            if let index = batchFingerprints.firstIndex(where: { $0.sha256 == fingerprint.sha256 }) {
                batchDuplicates.append((key, entry, index, .sameText, nil))
                continue
            }
            var supersedes: (id: Int64, file: String, distance: Int)?
            let candidates = [nearIndex.nearest(fingerprint.simhash), leadIndex.nearest(fingerprint.leadSimHash)].compactMap { $0 }
            if let match = candidates.min(by: { $0.distance < $1.distance }), let stored = try state.story(id: match.id) {
                if dedupe.nearDuplicates == .keepLonger, isFuller(text, than: stored.file) {
                    supersedes = (stored.id, stored.file, match.distance)
                } else {
                    drop(key, entry, url, .nearText, of: stored.file, distance: match.distance)
                    continue
                }
            }
            if supersedes == nil, let index = batchFingerprints.firstIndex(where: {
                $0.isNearDuplicate(of: fingerprint, distance: self.dedupe.nearDuplicateDistance)
            }) {
                let other = batchFingerprints[index]
                let distance = min(SimHash.distance(other.simhash, fingerprint.simhash), SimHash.distance(other.leadSimHash, fingerprint.leadSimHash))
                batchDuplicates.append((key, entry, index, .nearText, distance))
                continue
            }

            let published = entry.published ?? entry.updated ?? page?.published
            let terms = EventTerms(story: text)
            let (event, _) = events.assign(terms: terms, at: published ?? fetched, newEvent: "ev-" + fingerprint.nameTail)
            events.add(.init(id: -1, event: event, terms: terms, at: published ?? fetched))
            if let url { batchURLs[url] = pending.count }
            batchFingerprints.append(fingerprint)
            pendingKeys.append(key)
            pendingExtras.append((terms.serialized, supersedes?.id, fingerprint.leadSimHash))
            pending.append(PendingStory(
                text: text,
                record: StoryRecord(
                    file: "", sha256: fingerprint.sha256, simhash: fingerprint.simhashHex, url: url, feed: source.name,
                    feedURL: source.url, entryID: entry.id, title: text.headline, published: published,
                    fetched: fetched, language: (textSource == .page ? page?.language : nil) ?? feed.language ?? page?.language,
                    textSource: textSource, supersedes: supersedes?.file,
                    nearDistance: supersedes?.distance, event: event,
                    author: textSource == .page ? page?.author : nil, canonicalURL: page?.canonicalURL),
                nameTail: fingerprint.nameTail))
        }

        let records: [StoryRecord]
        do {
            records = try writer.write(pending, fetched: fetched)
        } catch {
            // Nothing of this poll is recorded, validators included, so every story is tried
            // again on the next poll.
            report.outcome = .failed("\(error)")
            try state.commit(FeedPollCommit(feedID: feedID, polledAt: fetched, result: "error", error: "\(error)"))
            return report
        }
        for duplicate in batchDuplicates {
            duplicates.append(DuplicateRecord(feedURL: source.url, entryKey: duplicate.key,
                                              url: duplicate.entry.link.map(canonicalizer.canonicalize), title: duplicate.entry.title,
                                              reason: duplicate.reason, duplicateOf: records[duplicate.index].file,
                                              distance: duplicate.distance, detectedAt: fetched))
        }
        var commit = FeedPollCommit(
            feedID: feedID, polledAt: fetched, result: "ok", http: http,
            stored: Array(zip(pendingKeys, records)).map { (entryKey: $0.0, record: $0.1) },
            duplicates: duplicates, emptyEntryKeys: empty, schedule: schedule(report.windowOverflow))
        commit.storedExtras = pendingExtras
        try state.commit(commit)
        // Only committed stories enter the near-duplicate index.
        let ids = try state.storyIDs(files: records.map(\.file))
        for (record, fingerprint) in zip(records, batchFingerprints) {
            if let id = ids[record.file] {
                nearIndex.insert(fingerprint.simhash, id: id)
                leadIndex.insert(fingerprint.leadSimHash, id: id)
            }
        }
        report.stored = records.count
        report.storedFiles = records.map(\.file)
        report.duplicates = duplicates.count
        for duplicate in duplicates { report.duplicatesByReason[duplicate.reason.rawValue, default: 0] += 1 }
        report.publishToIngestLags = records.compactMap { record in record.published.map { max(0, fetched.timeIntervalSince($0)) } }
        return report
    }

    /// Whether `text` is at least 10 % longer than the stored story `file` (keep-longer policy).
    private func isFuller(_ text: StoryText, than file: String) -> Bool {
        let path = writer.root + "/" + file
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber else { return false }
        return Double(text.fileContents.utf8.count) > size.doubleValue * 1.1
    }

    /// Keys for every entry; a key repeated inside one document (publishers reuse GUIDs) is made
    /// unique with the entry's link so that neither entry is lost.
    private func uniqueKeys(_ entries: [FeedEntry]) -> [(key: String, entry: FeedEntry)] {
        var used = Set<String>()
        var result: [(key: String, entry: FeedEntry)] = []
        for entry in entries {
            var key = EntryIdentity.key(for: entry, canonicalizer: canonicalizer)
            if used.contains(key) {
                let link = entry.link.map(canonicalizer.canonicalize) ?? ""
                let text = String(TextFingerprint(normalizedText: (entry.title ?? "") + (entry.content ?? entry.summary ?? "")).sha256.prefix(16))
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
    private func chronological(_ entries: [(key: String, entry: FeedEntry)]) -> [(key: String, entry: FeedEntry)] {
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
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}
