import Foundation
import StateStore

/// What happened to one feed in one pass.
/// One stored story as the log line names it.
public struct StoredStoryNote: Sendable, Equatable {
    public var file: String
    public var title: String
    public var textSource: String
}

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
    /// Set when this poll started a backfill of the feed (after an overflow, or to seed it).
    public var backfillScheduled: BackfillJob.Reason?
    /// The story files this poll stored, relative to the corpus root (kept in a pass's summary
    /// only when `on_new_stories` is set: the hook is what needs them).
    public var storedFiles: [String] = []
    /// What the log says of each stored story: its file, headline and where its text came from.
    public var storedNotes: [StoredStoryNote] = []
    /// The HTTP status of the feed request (0 for file://), for the debug log.
    public var httpStatus: Int?
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

    /// Adds `note` to the report's warning ("; " between notes).
    public mutating func addWarning(_ note: String) {
        warning = [warning, note].compactMap { $0 }.joined(separator: "; ")
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
