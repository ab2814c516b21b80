import CoreMetrics
import Foundation
import StateStore

/// The service's metrics, recorded through swift-metrics (the backend is chosen by the caller:
/// the service passes a Prometheus factory; without one, `MetricsSystem.factory`, a no-op unless
/// bootstrapped). Names follow Prometheus conventions; the README lists them.
public final class PipelineMetrics: @unchecked Sendable {
    private let factory: any MetricsFactory
    private let lock = NSLock()
    private var polls: [String: Counter] = [:]
    private var duplicates: [String: Counter] = [:]
    private var feedStates: [String: Meter] = [:]
    private var conditionalHits = 0
    private var conditionalRequests = 0

    private let fetchDuration: CoreMetrics.Timer
    private let parseDuration: CoreMetrics.Timer
    private let bytes: Counter
    private let storiesStored: Counter
    private let pagesFetched: Counter
    private let publishLag: Recorder
    private let conditionalNotModified: Counter
    private let conditionalModified: Counter
    private let conditionalHitRatio: Meter
    private let passes: Counter
    private let passDuration: CoreMetrics.Timer
    private let lastPassEnd: Meter
    private let windowOverflows: Counter
    private let backfillArchive: Counter
    private let backfillSitemap: Counter
    private let backfillDocuments: Counter
    private let backfillPages: Counter
    private let backfillsFinished: Counter

    /// Buckets (seconds) for the publish-to-ingest lag histogram: a minute to a week.
    public static let lagBuckets: [Double] = [60, 300, 900, 1800, 3600, 7200, 14_400, 43_200, 86_400, 259_200, 604_800]
    /// Buckets for fetch, parse and pass durations: 5 ms to 2 min.
    public static let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(120),
    ]
    /// The feed states `feedcorpus_feeds{state=...}` reports.
    public static let feedStateNames = ["ok", "failing", "disabled", "never_polled"]

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        fetchDuration = CoreMetrics.Timer(label: "feedcorpus_fetch_duration_seconds", dimensions: [], factory: factory)
        parseDuration = CoreMetrics.Timer(label: "feedcorpus_parse_duration_seconds", dimensions: [], factory: factory)
        bytes = Counter(label: "feedcorpus_fetched_bytes_total", dimensions: [], factory: factory)
        storiesStored = Counter(label: "feedcorpus_stories_stored_total", dimensions: [], factory: factory)
        pagesFetched = Counter(label: "feedcorpus_article_pages_fetched_total", dimensions: [], factory: factory)
        publishLag = Recorder(label: "feedcorpus_publish_to_ingest_lag_seconds", dimensions: [], aggregate: true, factory: factory)
        conditionalNotModified = Counter(label: "feedcorpus_conditional_get_total", dimensions: [("result", "not_modified")], factory: factory)
        conditionalModified = Counter(label: "feedcorpus_conditional_get_total", dimensions: [("result", "modified")], factory: factory)
        conditionalHitRatio = Meter(label: "feedcorpus_conditional_get_hit_ratio", dimensions: [], factory: factory)
        passes = Counter(label: "feedcorpus_passes_total", dimensions: [], factory: factory)
        passDuration = CoreMetrics.Timer(label: "feedcorpus_pass_duration_seconds", dimensions: [], factory: factory)
        lastPassEnd = Meter(label: "feedcorpus_last_pass_end_timestamp_seconds", dimensions: [], factory: factory)
        windowOverflows = Counter(label: "feedcorpus_window_overflows_total", dimensions: [], factory: factory)
        backfillArchive = Counter(label: "feedcorpus_backfill_stories_total", dimensions: [("via", "archive")], factory: factory)
        backfillSitemap = Counter(label: "feedcorpus_backfill_stories_total", dimensions: [("via", "sitemap")], factory: factory)
        backfillDocuments = Counter(label: "feedcorpus_backfill_requests_total", dimensions: [("kind", "document")], factory: factory)
        backfillPages = Counter(label: "feedcorpus_backfill_requests_total", dimensions: [("kind", "article_page")], factory: factory)
        backfillsFinished = Counter(label: "feedcorpus_backfills_finished_total", dimensions: [], factory: factory)
        // Every labelled series exists from the start (at 0), so rates and absent() behave.
        for result in ["ok", "not_modified", "failed"] { _ = counter(&polls, "feedcorpus_polls_total", "result", result) }
        for reason in ["same_url", "same_id", "same_text", "near_text"] {
            _ = counter(&duplicates, "feedcorpus_duplicates_total", "reason", reason)
        }
        for state in Self.feedStateNames { meter(state).set(0) }
    }

    private func counter(_ table: inout [String: Counter], _ label: String, _ dimension: String, _ value: String) -> Counter {
        if let existing = table[value] { return existing }
        let made = Counter(label: label, dimensions: [(dimension, value)], factory: factory)
        table[value] = made
        return made
    }

    private func meter(_ state: String) -> Meter {
        if let existing = feedStates[state] { return existing }
        let made = Meter(label: "feedcorpus_feeds", dimensions: [("state", state)], factory: factory)
        feedStates[state] = made
        return made
    }

    /// Records one feed's poll. A feed that was not polled (not due, disabled, waiting for its
    /// host) is no poll and is not counted.
    public func record(_ report: FeedRunReport) {
        let result: String
        switch report.outcome {
        case .ok: result = "ok"
        case .notModified: result = "not_modified"
        case .failed: result = "failed"
        case .skipped: return
        }
        lock.lock()
        counter(&polls, "feedcorpus_polls_total", "result", result).increment()
        for (reason, count) in report.duplicatesByReason {
            counter(&duplicates, "feedcorpus_duplicates_total", "reason", reason).increment(by: Int64(count))
        }
        if let conditional = report.conditionalGET {
            conditionalRequests += 1
            if conditional == .notModified { conditionalHits += 1 }
            conditionalHitRatio.set(Double(conditionalHits) / Double(conditionalRequests))
        }
        lock.unlock()
        if let duration = report.fetchDuration { fetchDuration.recordNanoseconds(duration.nanoseconds) }
        if let duration = report.parseDuration { parseDuration.recordNanoseconds(duration.nanoseconds) }
        if report.bytesFetched > 0 { bytes.increment(by: Int64(report.bytesFetched)) }
        if report.stored > 0 { storiesStored.increment(by: Int64(report.stored)) }
        if report.pagesFetched > 0 { pagesFetched.increment(by: Int64(report.pagesFetched)) }
        if report.windowOverflow { windowOverflows.increment() }
        for lag in report.publishToIngestLags { publishLag.record(lag) }
        switch report.conditionalGET {
        case .notModified?: conditionalNotModified.increment()
        case .modified?: conditionalModified.increment()
        case nil: break
        }
    }

    /// Records what a pass did of one feed's backfill (its stories count as stored too).
    public func record(_ report: BackfillReport) {
        if report.stored > 0 { storiesStored.increment(by: Int64(report.stored)) }
        lock.lock()
        for (reason, count) in report.duplicatesByReason {
            counter(&duplicates, "feedcorpus_duplicates_total", "reason", reason).increment(by: Int64(count))
        }
        lock.unlock()
        if report.storedViaArchive > 0 { backfillArchive.increment(by: Int64(report.storedViaArchive)) }
        if report.storedViaSitemap > 0 { backfillSitemap.increment(by: Int64(report.storedViaSitemap)) }
        if report.documentsFetched > 0 { backfillDocuments.increment(by: Int64(report.documentsFetched)) }
        if report.urlsFetched > 0 { backfillPages.increment(by: Int64(report.urlsFetched)) }
        if report.result != nil { backfillsFinished.increment() }
    }

    /// Sets `feedcorpus_feeds{state}` (at start, from the state, so it is right before the first pass).
    public func recordFeedStates(_ states: [String: Int]) {
        lock.lock()
        defer { lock.unlock() }
        for state in Set(Self.feedStateNames).union(states.keys) { meter(state).set(states[state] ?? 0) }
    }

    /// The `# HELP` text of every metric, for the exposition.
    public static let help: [String: String] = [
        "feedcorpus_polls_total": "Feed polls by result (a feed not due, disabled or waiting for its host is not polled).",
        "feedcorpus_fetch_duration_seconds": "Feed request time, waiting for the host's turn included.",
        "feedcorpus_parse_duration_seconds": "Feed parse time.",
        "feedcorpus_fetched_bytes_total": "Body bytes received, feeds and article pages.",
        "feedcorpus_article_pages_fetched_total": "Article pages fetched and extracted.",
        "feedcorpus_window_overflows_total": "Polls whose every entry was new (entries may have been missed; a backfill looks for them).",
        "feedcorpus_backfill_stories_total": "Stories stored by backfill, by where they were found (archive, sitemap).",
        "feedcorpus_backfill_requests_total": "Backfill requests: archive pages and sitemaps (document), sitemap URLs' pages (article_page).",
        "feedcorpus_backfills_finished_total": "Backfills that ended (whatever they recovered).",
        "feedcorpus_stories_stored_total": "Stories written to the corpus.",
        "feedcorpus_duplicates_total": "Duplicates dropped, by reason.",
        "feedcorpus_feeds": "Configured feeds by state (from the state at start, then after each pass).",
        "feedcorpus_publish_to_ingest_lag_seconds": "From a stored story's publication date to its ingestion.",
        "feedcorpus_conditional_get_total": "Successful or 304 answers to requests that carried a validator, by result.",
        "feedcorpus_conditional_get_hit_ratio": "Share of conditional requests answered 304 since start.",
        "feedcorpus_passes_total": "Passes over the due feeds.",
        "feedcorpus_pass_duration_seconds": "Duration of a pass.",
        "feedcorpus_last_pass_end_timestamp_seconds": "Unix time the last pass ended.",
    ]

    /// Records a finished pass and the feeds' states after it.
    public func recordPass(duration: Duration, finishedAt: Date, feedStates: [String: Int]) {
        passes.increment()
        passDuration.recordNanoseconds(duration.nanoseconds)
        lastPassEnd.set(finishedAt.timeIntervalSince1970)
        recordFeedStates(feedStates)
    }

    /// How many of `feeds` (configured URLs) are in each state, from their status in the state.
    public static func feedStates(configured feeds: [String], statuses: [FeedStatus]) -> [String: Int] {
        let byURL = Dictionary(statuses.map { ($0.url, $0) }, uniquingKeysWith: { first, _ in first })
        var counts: [String: Int] = [:]
        for url in feeds {
            let state: String
            if let status = byURL[url] {
                if status.disabledReason != nil { state = "disabled" }
                else if status.consecutiveErrors > 0 { state = "failing" }
                else if status.lastPollAt == nil { state = "never_polled" }
                else { state = "ok" }
            } else {
                state = "never_polled"
            }
            counts[state, default: 0] += 1
        }
        return counts
    }
}

extension Duration {
    /// Whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : scaled &+ attoseconds / 1_000_000_000
    }
}
