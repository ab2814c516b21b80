import CorpusWriter
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
    public var duplicates = 0
    /// Set when the document was malformed but could be read.
    public var warning: String?

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
    private let canonicalizer = URLCanonicalizer()
    private let clock: @Sendable () -> Date

    init(statePath: String, corpusRoot: String, layout: CorpusLayout, clock: @escaping @Sendable () -> Date) throws {
        state = try StateStore(path: statePath)
        writer = try CorpusWriter(root: corpusRoot, layout: layout)
        self.clock = clock
    }

    /// Cleans up after an interrupted run (see `CorpusWriter.reconcile`).
    func reconcile() throws -> ReconcileReport {
        try writer.reconcile(known: state.storedFiles())
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

    /// Stores the new entries of a parsed feed and records the poll.
    func ingest(feedID: Int64, source: (name: String, url: String), feed: ParsedFeed, http: FeedHTTPState,
                schedule: FeedSchedule, report: FeedRunReport) throws -> FeedRunReport {
        var report = report
        let fetched = clock()
        report.entriesSeen = feed.entries.count
        let keyed = uniqueKeys(feed.entries)
        let seen = try state.seenEntryKeys(feedID: feedID, among: keyed.map(\.key))
        let fresh = chronological(keyed.filter { !seen.contains($0.key) })
        report.newEntries = fresh.count

        var pending: [PendingStory] = []
        var pendingKeys: [String] = []
        var batchBySHA: [String: Int] = [:]
        var duplicates: [DuplicateRecord] = []
        var batchDuplicates: [(key: String, entry: FeedEntry, index: Int)] = []
        var empty: [String] = []
        for (key, entry) in fresh {
            let text = StoryBuilder.story(from: entry)
            if text.isEmpty {
                empty.append(key)
                continue
            }
            let fingerprint = TextFingerprint(story: text)
            let url = entry.link.map(canonicalizer.canonicalize)
            if let stored = try state.story(sha256: fingerprint.sha256) {
                duplicates.append(DuplicateRecord(feedURL: source.url, entryKey: key, url: url, title: entry.title,
                                                  reason: .sameText, duplicateOf: stored.file, detectedAt: fetched))
                continue
            }
            if let index = batchBySHA[fingerprint.sha256] {
                batchDuplicates.append((key, entry, index))
                continue
            }
            batchBySHA[fingerprint.sha256] = pending.count
            pendingKeys.append(key)
            pending.append(PendingStory(
                text: text,
                record: StoryRecord(
                    file: "", sha256: fingerprint.sha256, simhash: fingerprint.simhashHex, url: url, feed: source.name,
                    feedURL: source.url, entryID: entry.id, title: text.headline, published: entry.published ?? entry.updated,
                    fetched: fetched, language: feed.language, textSource: .feed),
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
                                              reason: .sameText, duplicateOf: records[duplicate.index].file, detectedAt: fetched))
        }
        try state.commit(FeedPollCommit(
            feedID: feedID, polledAt: fetched, result: "ok", http: http,
            stored: Array(zip(pendingKeys, records)).map { (entryKey: $0.0, record: $0.1) },
            duplicates: duplicates, emptyEntryKeys: empty, schedule: schedule))
        report.stored = records.count
        report.duplicates = duplicates.count
        return report
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
