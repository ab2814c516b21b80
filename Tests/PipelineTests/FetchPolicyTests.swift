import FeedConfig
import Fetcher
import Foundation
import Logging
import Pipeline
import StateStore
import TestSupport
import Testing

@Suite struct BackoffTests {
    @Test func growsExponentiallyWithBoundedJitterAndACap() {
        var previous = 0.0
        for errors in 1...8 {
            let delay = Backoff.delay(errors: errors, base: 300, cap: 86_400, seed: "https://a.example/rss")
            let nominal = 300 * pow(2, Double(errors - 1))
            #expect(delay >= min(nominal, 86_400))
            #expect(delay <= min(nominal * 1.2, 86_400))
            #expect(delay >= previous)
            previous = delay
        }
        #expect(Backoff.delay(errors: 20, base: 300, cap: 86_400, seed: "x") == 86_400)
        #expect(Backoff.delay(errors: 0, base: 300, cap: 86_400, seed: "x") == 0)
    }

    @Test func feedsOfOneHostDoNotRetryInLockstep() {
        let delays = Set((0..<20).map { Backoff.delay(errors: 3, base: 300, cap: 86_400, seed: "https://a.example/feed\($0)") })
        #expect(delays.count > 10)
    }
}

@Suite struct RedirectPolicyTests {
    func response(_ statuses: [Int], to target: String) -> FetchResponse {
        FetchResponse(status: 200, effectiveURL: target, headers: [:], body: [],
                      redirects: statuses.map { Redirect(status: $0, location: target) })
    }

    @Test func permanentRedirectIsAppliedOnTheSecondSighting() {
        let old = "https://old.example/rss"
        let new = "https://new.example/feed"
        let (once, applied) = RedirectPolicy.update(FeedSchedule(), requested: old, response: response([301], to: new))
        #expect(applied == nil)
        #expect(once.pendingRedirect == new)
        let (twice, appliedNow) = RedirectPolicy.update(once, requested: old, response: response([308], to: new))
        #expect(appliedNow == new)
        #expect(twice.fetchURL == new)
        #expect(twice.pendingRedirect == nil)
    }

    @Test func httpToHTTPSIsAppliedAtOnce() {
        let (schedule, applied) = RedirectPolicy.update(FeedSchedule(), requested: "http://a.example/rss?x=1",
                                                        response: response([301], to: "https://a.example/rss?x=1"))
        #expect(applied == "https://a.example/rss?x=1")
        #expect(schedule.fetchURL == "https://a.example/rss?x=1")
    }

    @Test func temporaryRedirectsAreNotRemembered() {
        let (schedule, applied) = RedirectPolicy.update(FeedSchedule(pendingRedirect: "https://b.example/", pendingRedirectCount: 1),
                                                        requested: "https://a.example/", response: response([301, 302], to: "https://b.example/"))
        #expect(applied == nil)
        #expect(schedule.fetchURL == nil)
        #expect(schedule.pendingRedirect == nil)
    }
}

/// The fetch policies end to end: a loopback server, real SQLite state, the real pass.
@Suite(.serialized) final class FetchPolicyPassTests {
    let server: TestHTTPServer
    let workspace: URL
    let feedXML = FeedFixtures.rss(title: "News", items: [FeedFixtures.Item(guid: "1", title: "One", paragraphs: ["Body one."])])

    init() throws {
        server = try TestHTTPServer()
        workspace = try TemporaryFolder.make(prefix: "policy")
        try server.put("news.xml", feedXML)
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(at: workspace)
    }

    /// These tests are about the feed's own text: article pages (at hosts that do not exist) are
    /// never fetched, so no test leaves the loopback interface.
    static func withoutPages(_ feed: FeedSource) -> FeedSource {
        var feed = feed
        feed.fullText = .never
        return feed
    }

    func configuration(_ feeds: [FeedSource]) -> Configuration {
        var fetch = FetchSettings()
        fetch.hostDelay = 0
        return Configuration(path: workspace.appendingPathComponent("c.yaml").path, corpusDirectory: workspace.appendingPathComponent("corpus").path,
                             statePath: workspace.appendingPathComponent("state.sqlite").path, fetch: fetch, feeds: feeds.map(Self.withoutPages))
    }

    func run(_ configuration: Configuration, all: Bool = false, at date: Date) async throws -> PassSummary {
        try await IngestPass(configuration: configuration, logger: Logger(label: "test"), pollAll: all, clock: { date }).run()
    }

    func schedule(_ configuration: Configuration, url: String) throws -> FeedSchedule {
        let state = try StateStore(path: configuration.statePath)
        return try state.schedule(feedID: try state.feedID(url: url, name: "x"))
    }

    @Test func aFailingFeedBacksOffAndIsSkippedUntilDue() async throws {
        let url = server.url("status/500")
        let config = configuration([FeedSource(url: url, name: "broken")])
        let now = Date()
        let first = try await run(config, at: now)
        #expect(first.feedsFailed == 1)
        let due = try #require(try schedule(config, url: url).nextPollAt)
        #expect(due.timeIntervalSince(now) >= 300 && due.timeIntervalSince(now) <= 360)

        let early = try await run(config, at: now.addingTimeInterval(60))
        #expect(early.feedsSkipped == 1)
        #expect(server.requestedPaths().filter { $0 == "/status/500" }.count == 1)

        _ = try await run(config, all: true, at: now.addingTimeInterval(60))  // --all polls anyway
        #expect(server.requestedPaths().filter { $0 == "/status/500" }.count == 2)
        let second = try #require(try schedule(config, url: url).nextPollAt)
        #expect(second.timeIntervalSince(now.addingTimeInterval(60)) >= 600)  // doubled
        #expect(try schedule(config, url: url).consecutiveErrors == 2)
    }

    @Test func goneDisablesTheFeed() async throws {
        let url = server.url("status/410")
        let config = configuration([FeedSource(url: url, name: "gone"), FeedSource(url: server.url("files/news.xml"), name: "ok")])
        let first = try await run(config, at: Date())
        let gone = try #require(first.reports.first { $0.name == "gone" })
        guard case let .failed(message) = gone.outcome else { Issue.record("410 should fail"); return }
        #expect(message.contains("disabled"))
        #expect(first.stored == 1)
        #expect(try schedule(config, url: url).disabledReason?.contains("410") == true)

        let second = try await run(config, all: true, at: Date().addingTimeInterval(86_400 * 30))
        #expect(second.reports.first { $0.name == "gone" }?.skipped == true)
        #expect(server.requestedPaths().filter { $0 == "/status/410" }.count == 1)
        #expect(second.feedsFailed == 0)
    }

    @Test func retryAfterHoldsTheHostForOtherFeedsAndLaterRuns() async throws {
        let config = configuration([FeedSource(url: server.url("retry/429/3600"), name: "limited")])
        let now = Date()
        _ = try await run(config, at: now)
        #expect(try schedule(config, url: server.url("retry/429/3600")).nextPollAt.map { $0.timeIntervalSince(now) >= 3500 } == true)

        // A later run, another feed on the same host: the hold is remembered in the state.
        let other = configuration([FeedSource(url: server.url("files/news.xml"), name: "news")])
        let later = try await run(other, at: Date())
        let report = try #require(later.reports.first)
        // Waiting is reported as such, not as a failure (and the run's exit status stays 0).
        guard case let .skipped(message) = report.outcome else { Issue.record("the host should be held: \(report.outcome)"); return }
        #expect(message.hasPrefix("waiting: ") && message.contains("Retry-After"))
        #expect(later.feedsFailed == 0)
        #expect(!server.requestedPaths().contains("/files/news.xml"))
        // Waiting for a host is not the feed's error.
        #expect(try schedule(other, url: server.url("files/news.xml")).consecutiveErrors == 0)
    }

    @Test func aConfirmedPermanentRedirectMovesTheFeed() async throws {
        let configured = server.url("moved/news.xml")
        let config = configuration([FeedSource(url: configured, name: "news")])
        _ = try await run(config, at: Date())
        #expect(try schedule(config, url: configured).fetchURL == nil)
        #expect(try schedule(config, url: configured).pendingRedirect == server.url("files/news.xml"))
        try server.put("news.xml", feedXML + " ")  // changed body, so it is read again
        let second = try await run(config, all: true, at: Date())
        #expect(try schedule(config, url: configured).fetchURL == server.url("files/news.xml"))
        #expect(second.reports.first?.warning?.contains("moved permanently") == true)
        _ = try await run(config, all: true, at: Date())
        #expect(server.requestedPaths().last == "/files/news.xml")
        #expect(server.requestedPaths().filter { $0 == "/moved/news.xml" }.count == 2)
        // The configured URL stays the identity: the manifest names it.
        let day = try FileManager.default.contentsOfDirectory(atPath: workspace.appendingPathComponent("corpus").path).first { !$0.hasPrefix(".") } ?? ""
        let manifest = try String(contentsOf: workspace.appendingPathComponent("corpus/\(day)/manifest.jsonl"), encoding: .utf8)
        #expect(manifest.contains("\"feed_url\":\"\(configured)\""))
    }

    @Test func aSuccessfulPollSchedulesTheNextOneAndOnceSkipsUntilThen() async throws {
        let url = server.url("files/news.xml")
        let config = configuration([FeedSource(url: url, name: "news", minInterval: 600, maxInterval: 600)])
        let now = Date()
        _ = try await run(config, at: now)
        let due = try #require(try schedule(config, url: url).nextPollAt)
        #expect(due.timeIntervalSince(now) >= 600 && due.timeIntervalSince(now) <= 660)  // interval + up to 10 % jitter
        #expect(try await run(config, at: now.addingTimeInterval(60)).feedsSkipped == 1)
        #expect(try await run(config, at: now.addingTimeInterval(700)).reports.first?.outcome == .notModified)
    }

    @Test func aPollWithOnlyUnknownEntriesIsAWindowOverflow() async throws {
        let url = server.url("files/news.xml")
        let items = { (prefix: String) in (1...4).map { FeedFixtures.Item(guid: "\(prefix)\($0)", title: "T \(prefix)\($0)", paragraphs: ["Words \(prefix) number \($0) of a story."]) } }
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: items("a")))
        let config = configuration([FeedSource(url: url, name: "news")])
        _ = try await run(config, at: Date())
        #expect(try schedule(config, url: url).windowOverflows == 0)  // the first read is no overflow
        let calm = try #require(try schedule(config, url: url).pollInterval)
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: items("b")))  // every entry replaced
        let second = try await run(config, all: true, at: Date())
        #expect(second.reports.first?.windowOverflow == true)
        #expect(try schedule(config, url: url).windowOverflows == 1)
        #expect(try #require(try schedule(config, url: url).pollInterval) <= calm)
    }

    @Test func politenessDelayAppliesAcrossFeedsOfOneHost() async throws {
        var config = configuration((1...3).map { FeedSource(url: server.url("files/news.xml?f=\($0)"), name: "f\($0)") })
        config.fetch.hostDelay = 0.25
        _ = try await run(config, at: Date())
        let times = server.requests().filter { $0.path.hasPrefix("/files/news.xml") }.map(\.time).sorted()
        #expect(times.count == 3)
        for (a, b) in zip(times, times.dropFirst()) { #expect(b - a >= 0.23) }
    }
}
