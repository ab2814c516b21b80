import CorpusWriter
import Dedupe
import FeedModel
import Foundation
import StateStore

/// One poll's new entries as the dedupe ladder decided them: stored (with their index in the
/// group's pending stories), dropped as duplicates, or empty. The single machine's `Ingestor`
/// and cluster mode's workers decide with the same code (`decide`), so both keep the same stories.
public struct DecidedPoll: Sendable {
    public internal(set) var poll: ParsedPoll
    public internal(set) var report: FeedRunReport
    public internal(set) var accepted: [(key: String, index: Int, story: IncomingStory, supersedes: StoredStoryRef?)] = []
    public internal(set) var dropped: [(key: String, title: String?, url: String?, reason: DuplicateReason, of: DuplicateTarget, near: NearMatch?)] = []
    /// Entries that gave no text.
    public internal(set) var empty: [String] = []

    /// Decides `poll`'s entries not in `seen` (the keys its feed has shown before), oldest
    /// first, appending the stories to store to `pending` (file names are the writer's to give).
    /// Accepted stories join `deduplicator`'s batch: the caller commits or discards it.
    public static func decide(_ poll: ParsedPoll, seen: Set<String>, fetched: Date, deduplicator: inout Deduplicator,
                              lookup: some StoredStoryLookup, pending: inout [PendingStory]) throws -> DecidedPoll {
        var report = poll.report
        report.entriesSeen = poll.keys.count
        let fresh = poll.entries.filter { !seen.contains($0.key) }
        report.newEntries = fresh.count
        report.windowOverflow = poll.backfillBatch == nil && poll.previouslyRead && poll.keys.count >= 2 && seen.isEmpty
        var decided = DecidedPoll(poll: poll, report: report)
        for prepared in fresh {
            let (key, incoming) = (prepared.key, prepared.story)
            let text = incoming.text
            switch try deduplicator.decide(incoming, lookup: lookup) {
            case let .duplicate(reason, of, near):
                decided.dropped.append((key, prepared.title, prepared.url, reason, of, near))
            case .store where text.isEmpty:
                decided.empty.append(key)
            case let .store(event, supersedes):
                deduplicator.accept(incoming, event: event)
                let fingerprint = incoming.fingerprint
                let fromPage = prepared.textSource == .page
                let record = StoryRecord(
                    file: "", sha256: fingerprint.sha256, simhash: fingerprint.simhashHex, url: prepared.url, feed: poll.feed.name,
                    feedURL: URLCredentials.stripped(poll.feed.url), entryID: prepared.entryID, title: text.headline, published: prepared.published,
                    fetched: fetched, language: (fromPage ? prepared.pageLanguage : nil) ?? poll.language ?? prepared.pageLanguage,
                    textSource: prepared.textSource, supersedes: supersedes?.0.file,
                    nearDistance: supersedes?.1.distance, event: event,
                    author: fromPage ? prepared.pageAuthor : nil, canonicalURL: prepared.pageCanonicalURL, via: poll.backfillBatch?.via)
                decided.accepted.append((key, pending.count, incoming, supersedes?.0))
                pending.append(PendingStory(text: text, record: record, nameTail: fingerprint.nameTail))
            }
        }
        return decided
    }

    /// The poll's report once its stories are stored as `records` (one per accepted story, in order).
    public func storedReport(records: [StoryRecord], fetched: Date) -> FeedRunReport {
        var report = self.report
        let files = accepted.map { records[$0.index] }
        report.stored = files.count
        report.storedFiles = files.map(\.file)
        report.storedNotes = files.map { StoredStoryNote(file: $0.file, title: $0.title, textSource: $0.textSource.rawValue) }
        report.duplicates = dropped.count
        for duplicate in dropped { report.duplicatesByReason[duplicate.reason.rawValue, default: 0] += 1 }
        report.publishToIngestLags = files.compactMap { record in record.published.map { max(0, fetched.timeIntervalSince($0)) } }
        return report
    }
}
