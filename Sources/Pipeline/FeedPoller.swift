import FeedConfig
import Fetcher
import Foundation
import Logging

/// Polls one feed at a time up to the decision on its stories (fetch, parse, new entries, article
/// pages), for a caller that keeps its own state: cluster mode's workers, each feed under a lease.
/// The same code as a pass's polls (`IngestPass`), with the state as a `PollState`.
public struct FeedPoller: Sendable {
    let pass: IngestPass
    let pages: ArticlePageFetcher

    /// - Parameters:
    ///   - client: the HTTP client every request goes through (with the cluster's host gate).
    ///   - robots: where robots.txt answers are shared with other processes, if anywhere.
    public init(configuration: Configuration, logger: Logger, client: HTTPClient, robots: (any SharedRobotsStore)?,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        // The state decided the feed is due (leases are claimed by the database's clock), so the
        // schedule's own due time, by this machine's clock, is not asked again.
        pass = IngestPass(configuration: configuration, logger: logger, pollAll: true, clock: clock)
        pages = ArticlePageFetcher(client: client, robots: RobotsCache(userAgent: configuration.fetch.userAgent, shared: robots),
                                   budget: client.makeBudget(capacity: configuration.fetch.maxPageBytesInFlight),
                                   settings: configuration.fetch)
    }

    /// Fetches, parses and extracts `feed`: either finished (recorded in `state` already) or
    /// parsed, with new entries to decide.
    public func poll(_ feed: FeedSource, state: some PollState) async -> PollOutcome {
        await pass.poll(feed, client: pages.client, pages: pages, state: state)
    }

    /// Records that storing `poll`'s stories failed, with the error backoff; the report says why.
    public func failStoring(_ poll: ParsedPoll, error: any Error, state: some PollState) async -> FeedRunReport {
        await pass.failStoring(poll, error: error, state: state)
    }

    /// Logs a poll's outcome as a pass does.
    public func log(_ report: FeedRunReport) {
        pass.logOutcome(report)
    }
}
