import FeedConfig
import Foundation
import Logging
import Pipeline
import Prometheus
import TestSupport
import Testing

/// Passes recorded through swift-metrics into a real Prometheus registry.
@Suite(.serialized) final class MetricsTests {
    let server: TestHTTPServer
    let workspace: URL

    init() throws {
        server = try TestHTTPServer()
        workspace = try TemporaryFolder.make(prefix: "metrics")
    }

    deinit { server.stop() }

    func configuration(_ feeds: [FeedSource]) -> Configuration {
        var fetch = FetchSettings()
        fetch.hostDelay = 0
        return Configuration(path: workspace.appendingPathComponent("feedcorpus.yaml").path,
                             corpusDirectory: workspace.appendingPathComponent("corpus").path,
                             statePath: workspace.appendingPathComponent("state.sqlite").path, fetch: fetch,
                             feeds: feeds.map { var feed = $0; feed.fullText = .never; return feed })
    }

    /// The value of one series in Prometheus text (`name{labels} value`), nil if absent.
    func value(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func pollsStoriesDuplicatesConditionalGETAndFeedStatesAreCounted() async throws {
        let alpha = FeedFixtures.Item(guid: "a1", title: "Alpha", paragraphs: ["Alpha text of the story, long enough to count."])
        let copy = FeedFixtures.Item(guid: "a2", title: "Alpha", paragraphs: alpha.paragraphs, link: "https://news.example/other")
        let beta = FeedFixtures.Item(guid: "b1", title: "Beta", paragraphs: ["Beta is a different story with other words entirely."])
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [copy, beta, alpha]))
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets["feedcorpus_publish_to_ingest_lag_seconds"] = PipelineMetrics.lagBuckets
        let metrics = PipelineMetrics(factory: factory)
        let config = configuration([
            FeedSource(url: server.url("files/news.xml"), name: "news"),
            FeedSource(url: server.url("status/500"), name: "broken"),
        ])
        // The fixture's entries are dated 2024-11-04 12:00 UTC; the pass runs an hour later.
        let now = Date(timeIntervalSince1970: 1_730_721_600 + 3600)
        let pass = IngestPass(configuration: config, logger: Logger(label: "test"), pollAll: true, metrics: metrics, clock: { now })
        let first = try await pass.run()
        #expect(first.stored == 2)
        let second = try await pass.run()  // 304 for news (ETag sent), 500 again for broken
        #expect(second.reports.first { $0.name == "news" }?.outcome == .notModified)

        let text = registry.emitToString()
        #expect(value(text, #"feedcorpus_polls_total{result="ok"}"#) == 1)
        #expect(value(text, #"feedcorpus_polls_total{result="not_modified"}"#) == 1)
        #expect(value(text, #"feedcorpus_polls_total{result="failed"}"#) == 2)
        #expect(value(text, "feedcorpus_stories_stored_total") == 2)
        #expect(value(text, #"feedcorpus_duplicates_total{reason="same_text"}"#) == 1)
        #expect(value(text, #"feedcorpus_duplicates_total{reason="near_text"}"#) == 0)
        #expect(value(text, #"feedcorpus_conditional_get_total{result="not_modified"}"#) == 1)
        #expect(value(text, #"feedcorpus_conditional_get_total{result="modified"}"#) == 0)
        #expect(value(text, "feedcorpus_conditional_get_hit_ratio") == 1)
        let bodySize = Double(try Data(contentsOf: server.root.appendingPathComponent("news.xml")).count)
        #expect(value(text, "feedcorpus_fetched_bytes_total") == bodySize)  // the 500s and the 304 had empty bodies
        #expect(value(text, #"feedcorpus_feeds{state="ok"}"#) == 1)
        #expect(value(text, #"feedcorpus_feeds{state="failing"}"#) == 1)
        #expect(value(text, #"feedcorpus_feeds{state="disabled"}"#) == 0)
        #expect(value(text, "feedcorpus_passes_total") == 2)
        // Both stored stories were published an hour before the pass: in the 3600 s bucket, not below.
        #expect(value(text, "feedcorpus_publish_to_ingest_lag_seconds_count") == 2)
        #expect(value(text, #"feedcorpus_publish_to_ingest_lag_seconds_bucket{le="1800.0"}"#) == 0)
        #expect(value(text, #"feedcorpus_publish_to_ingest_lag_seconds_bucket{le="3600.0"}"#) == 2)
        // Three fetches answered (the first news poll, its 304; the 500s count too) and one parse.
        #expect(value(text, "feedcorpus_fetch_duration_seconds_count") == 4)
        #expect(value(text, "feedcorpus_parse_duration_seconds_count") == 1)
        #expect(value(text, "feedcorpus_last_pass_end_timestamp_seconds") == now.timeIntervalSince1970)
        #expect(!text.contains(#"result="skipped""#))

        // A feed that is not due is no poll; a 404 to a request with validators says nothing
        // about them (not "modified").
        let notDue = IngestPass(configuration: config, logger: Logger(label: "test"), pollAll: false, metrics: metrics, clock: { now })
        _ = try await notDue.run()
        try FileManager.default.removeItem(at: server.root.appendingPathComponent("news.xml"))
        _ = try await pass.run()
        let after = registry.emitToString()
        #expect(value(after, #"feedcorpus_polls_total{result="failed"}"#) == 4)  // the 404 and broken's 500; nothing for not-due feeds
        #expect(value(after, #"feedcorpus_polls_total{result="ok"}"#) == 1)
        #expect(value(after, #"feedcorpus_conditional_get_total{result="modified"}"#) == 0)
        #expect(value(after, #"feedcorpus_conditional_get_total{result="not_modified"}"#) == 1)
    }

    @Test func feedStatesComeFromTheState() {
        let statuses = [
            FeedStatusFixture.make(url: "a", lastPoll: true, errors: 0),
            FeedStatusFixture.make(url: "b", lastPoll: true, errors: 3),
            FeedStatusFixture.make(url: "c", lastPoll: true, errors: 1, disabled: "HTTP 410"),
        ]
        let counts = PipelineMetrics.feedStates(configured: ["a", "b", "c", "d"], statuses: statuses)
        #expect(counts == ["ok": 1, "failing": 1, "disabled": 1, "never_polled": 1])
    }
}

import StateStore

enum FeedStatusFixture {
    static func make(url: String, lastPoll: Bool, errors: Int, disabled: String? = nil) -> FeedStatus {
        var status = FeedStatus(url: url, name: url, lastPollAt: lastPoll ? Date() : nil, consecutiveErrors: errors, windowOverflows: 0,
                                storiesStored: 0, duplicatesDropped: 0)
        status.disabledReason = disabled
        return status
    }
}
