import Foundation

/// Totals of one pass over the feeds.
public struct PassSummary: Sendable, Equatable {
    public var reports: [FeedRunReport]

    public var feedsOK: Int { reports.filter { !$0.failed && !$0.skipped }.count }
    public var feedsSkipped: Int { reports.filter(\.skipped).count }
    public var feedsFailed: Int { reports.filter(\.failed).count }
    public var entriesSeen: Int { reports.reduce(0) { $0 + $1.entriesSeen } }
    public var stored: Int { reports.reduce(0) { $0 + $1.stored } }
    public var duplicates: Int { reports.reduce(0) { $0 + $1.duplicates } }
}
