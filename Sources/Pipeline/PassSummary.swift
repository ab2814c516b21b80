import Foundation

/// Totals of one pass over the feeds.
public struct PassSummary: Sendable, Equatable {
    public var reports: [FeedRunReport]
    /// The backfills this pass worked on (after its polls).
    public var backfills: [BackfillReport] = []

    public init(reports: [FeedRunReport], backfills: [BackfillReport] = []) {
        self.reports = reports
        self.backfills = backfills
    }

    public var feedsOK: Int { reports.filter { !$0.failed && !$0.skipped }.count }
    public var feedsSkipped: Int { reports.filter(\.skipped).count }
    public var feedsFailed: Int { reports.filter(\.failed).count }
    public var entriesSeen: Int { reports.reduce(0) { $0 + $1.entriesSeen } }
    /// Stories stored by the polls and by backfills.
    public var stored: Int { reports.reduce(0) { $0 + $1.stored } + backfilled }
    public var backfilled: Int { backfills.reduce(0) { $0 + $1.stored } }
    /// The files stored this pass, polls' then backfills', relative to the corpus root.
    public var storedFiles: [String] { reports.flatMap(\.storedFiles) + backfills.flatMap(\.storedFiles) }
    public var duplicates: Int { reports.reduce(0) { $0 + $1.duplicates } }
}
