import FeedConfig
import FeedModel
import Foundation
import Logging
import Pipeline
import StateStore
import TestSupport
import Testing

/// End-to-end passes: a real loopback HTTP server, real SQLite, real files.
@Suite(.serialized) final class IngestPassTests {
    let server: TestHTTPServer
    let workspace: URL

    init() throws {
        server = try TestHTTPServer()
        workspace = try TemporaryFolder.make(prefix: "pipeline")
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

    func configuration(_ feeds: [FeedSource], layout: LayoutSetting = .daily) -> Configuration {
        var fetch = FetchSettings()
        fetch.hostDelay = 0  // Every test feed is on 127.0.0.1; politeness has its own test.
        return Configuration(path: workspace.appendingPathComponent("feedcorpus.yaml").path,
                             corpusDirectory: workspace.appendingPathComponent("corpus").path, layout: layout,
                             statePath: workspace.appendingPathComponent("state/feedcorpus.sqlite").path, fetch: fetch, feeds: feeds.map(Self.withoutPages))
    }

    /// One pass. Every pass here polls every feed (`all`): these tests are about what is stored,
    /// not about when feeds are due (that is SchedulerTests and FetchPolicyPassTests).
    func run(_ configuration: Configuration, at date: Date = Date(timeIntervalSince1970: 1_730_721_600)) async throws -> PassSummary {
        try await IngestPass(configuration: configuration, logger: Logger(label: "test"), pollAll: true, clock: { date }).run()
    }

    func storyFiles(day: String = "2024-11-04") throws -> [String] {
        let folder = workspace.appendingPathComponent("corpus/\(day)")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".txt") }.sorted()
    }

    func manifestLines(day: String = "2024-11-04") throws -> [[String: Any]] {
        let text = try String(contentsOf: workspace.appendingPathComponent("corpus/\(day)/manifest.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    let alpha = FeedFixtures.Item(guid: "a1", title: "Alpha headline", paragraphs: ["Alpha first paragraph.", "Alpha second paragraph."])
    let beta = FeedFixtures.Item(guid: "b1", title: "Beta headline", paragraphs: ["Beta body text."])
    let gamma = FeedFixtures.Item(guid: "g1", title: "Gamma headline", paragraphs: ["Gamma body text."])

    @Test func storesNewStoriesOverHTTPAndReportsA404BesideThem() async throws {
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [beta, alpha]))
        let config = configuration([
            FeedSource(url: server.url("files/news.xml"), name: "news"),
            FeedSource(url: server.url("files/missing.xml"), name: "missing"),
        ])
        let summary = try await run(config)
        #expect(summary.feedsOK == 1)
        #expect(summary.feedsFailed == 1)
        #expect(summary.stored == 2)
        let failure = try #require(summary.reports.first { $0.name == "missing" })
        guard case let .failed(message) = failure.outcome else { Issue.record("404 feed should fail"); return }
        #expect(message.contains("HTTP 404"))
        #expect(message.contains("missing.xml"))

        let files = try storyFiles()
        #expect(files.count == 2)
        #expect(files[0].hasPrefix("000_") && files[1].hasPrefix("001_"))
        // Oldest first; equal dates keep feed order reversed (feeds list the newest first).
        let first = try String(contentsOf: workspace.appendingPathComponent("corpus/2024-11-04/\(files[0])"), encoding: .utf8)
        #expect(first == "Alpha headline\nAlpha first paragraph.\nAlpha second paragraph.\n")
        let manifest = try manifestLines()
        #expect(manifest.map { $0["file"] as? String } == files.map { "2024-11-04/\($0)" })
        #expect(manifest.first?["feed"] as? String == "news")
        #expect(manifest.first?["url"] as? String == "https://news.example/a1")

        let state = try StateStore(path: config.statePath)
        let missingID = try state.feedID(url: server.url("files/missing.xml"), name: "missing")
        #expect(try state.feedStatus(feedID: missingID)?.consecutiveErrors == 1)
    }

    @Test func secondRunStoresNothingAndANewEntryIsStoredAlone() async throws {
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [alpha]))
        // Without validators every poll downloads and parses again: seen entries must be skipped.
        let config = configuration([FeedSource(url: server.url("novalidators/news.xml"), name: "news")])
        #expect(try await run(config).stored == 1)

        let again = try await run(config)
        #expect(again.stored == 0)
        #expect(again.duplicates == 0)
        #expect(try storyFiles().count == 1)

        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [beta, alpha]))
        let third = try await run(config)
        #expect(third.reports.first?.entriesSeen == 2)
        #expect(third.reports.first?.newEntries == 1)
        #expect(third.stored == 1)
        #expect(try storyFiles().count == 2)
        #expect(try manifestLines().count == 2)
    }

    @Test func unchangedFeedIsNotParsedAgain() async throws {
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [alpha]))
        let config = configuration([FeedSource(url: server.url("files/news.xml"), name: "news")])
        _ = try await run(config)
        let second = try await run(config)
        #expect(second.reports.first?.outcome == .notModified)  // 304 thanks to the stored ETag
        #expect(second.reports.first?.entriesSeen == 0)
    }

    /// A body long enough (30 words or more) for its text alone to identify the story.
    let wire = FeedFixtures.Item(guid: "w1", title: "Alpha headline", paragraphs: [
        "The city council approved the new bridge over the river on Tuesday after a debate that lasted most of the night.",
        "Construction is expected to start in the spring and to cost about 40 million euros, the mayor said.",
    ])

    @Test func exactDuplicateAcrossFeedsIsDroppedAndTraceable() async throws {
        let syndicated = FeedFixtures.Item(guid: "other-77", title: "Different headline (Wire)",
                                           paragraphs: wire.paragraphs.map { $0.replacingOccurrences(of: "Tuesday after", with: "Tuesday  after").replacingOccurrences(of: ", the mayor", with: " —  the mayor") },
                                           link: "https://other.example/alpha?utm_source=x")
        try server.put("one.xml", FeedFixtures.rss(title: "One", items: [wire]))
        try server.put("two.xml", FeedFixtures.rss(title: "Two", items: [syndicated, gamma]))
        let config = configuration([
            FeedSource(url: server.url("files/one.xml"), name: "one"),
            FeedSource(url: server.url("files/two.xml"), name: "two"),
        ])
        let summary = try await run(config)
        #expect(summary.stored == 2)
        #expect(summary.duplicates == 1)
        let state = try StateStore(path: config.statePath)
        let duplicates = try state.duplicates()
        #expect(duplicates.count == 1)
        let kept = try manifestLines().compactMap { $0["file"] as? String }
        #expect(kept.contains(try #require(duplicates.first?.duplicateOf)))
        #expect(duplicates.first?.url == "https://other.example/alpha")
    }

    @Test func sameTextTwiceInOneFeedIsStoredOnce() async throws {
        let copy = FeedFixtures.Item(guid: "a2", title: "Alpha again", paragraphs: wire.paragraphs)
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [copy, wire]))
        let summary = try await run(configuration([FeedSource(url: server.url("files/news.xml"), name: "news")]))
        #expect(summary.stored == 1)
        #expect(summary.duplicates == 1)
    }

    /// Two distinct stories whose feed text is the same stock sentence: too short for the text
    /// alone to say they are one story, so both are kept (the same short text under the same
    /// headline is still one story).
    @Test func aShortStockTeaserUnderAnotherHeadlineIsNotADuplicate() async throws {
        let stock = ["Officials in Geneva did not immediately respond to a request for comment."]
        let first = FeedFixtures.Item(guid: "s1", title: "Talks on the budget resume", paragraphs: stock, link: "https://a.example/budget")
        let second = FeedFixtures.Item(guid: "s2", title: "Heatwave hits the south", paragraphs: stock, link: "https://a.example/heat")
        let again = FeedFixtures.Item(guid: "s3", title: "Talks on the budget resume", paragraphs: stock, link: "https://b.example/budget")
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [again, second, first]))
        let summary = try await run(configuration([FeedSource(url: server.url("files/news.xml"), name: "news")]))
        #expect(summary.stored == 2)
        #expect(summary.duplicates == 1)
    }

    @Test func repeatedGUIDInOneFeedDoesNotLoseTheOtherEntry() async throws {
        let reused = FeedFixtures.Item(guid: "a1", title: "Other story, same guid", paragraphs: ["Entirely different text."],
                                       link: "https://news.example/other")
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [reused, alpha]))
        let summary = try await run(configuration([FeedSource(url: server.url("files/news.xml"), name: "news")]))
        #expect(summary.stored == 2)
    }

    @Test func brokenFeedDoesNotStopTheOthers() async throws {
        try server.put("good.xml", FeedFixtures.rss(title: "Good", items: [alpha]))
        try server.put("page.html", "<html><body><p>Not a feed</p></body></html>")
        try server.put("garbage.xml", "\u{1}\u{2} not xml at all <<<")
        let config = configuration([
            FeedSource(url: server.url("files/page.html"), name: "page"),
            FeedSource(url: server.url("files/garbage.xml"), name: "garbage"),
            FeedSource(url: server.url("files/good.xml"), name: "good"),
            FeedSource(url: server.url("loop"), name: "loop"),
        ])
        let summary = try await run(config)
        #expect(summary.stored == 1)
        #expect(summary.feedsFailed == 3)
        let page = try #require(summary.reports.first { $0.name == "page" })
        #expect(page.outcome == .failed("\(server.url("files/page.html")): the root element is <html>, not a feed (rss, rdf:RDF or feed) (this is a web page: find the page's RSS or Atom link and configure that URL instead)"))
    }

    @Test func aSecondProcessFindsTheStateLocked() async throws {
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [alpha]))
        let config = configuration([FeedSource(url: server.url("files/news.xml"), name: "news")])
        var holder: StateLock? = try StateLock(statePath: config.statePath)
        do {
            _ = try await run(config)
            Issue.record("expected the pass to find the lock taken")
        } catch let error as PassError {
            guard case let .locked(busy) = error else { Issue.record("unexpected \(error)"); return }
            #expect(busy.holder.contains("pid \(getpid())"))
        }
        #expect(holder != nil)
        holder = nil
        #expect(try await run(config).stored == 1)  // free once the holder is gone
    }

    @Test func interruptedWriteIsCleanedUpOnTheNextStart() async throws {
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [alpha]))
        let config = configuration([FeedSource(url: server.url("files/news.xml"), name: "news")])
        // What a kill -9 between the file rename and the state commit leaves: a story file the
        // state does not know, its manifest line, and a temporary file.
        let day = workspace.appendingPathComponent("corpus/2024-11-04")
        try FileManager.default.createDirectory(at: day, withIntermediateDirectories: true)
        try Data("Ghost\nnot in state\n".utf8).write(to: day.appendingPathComponent("000_0123456789abcdef.txt"))
        try Data(#"{"file":"2024-11-04/000_0123456789abcdef.txt"}"#.utf8 + [0x0A]).write(to: day.appendingPathComponent("manifest.jsonl"))
        try Data("half".utf8).write(to: day.appendingPathComponent(".tmp-001_0123456789abcdef.txt"))

        #expect(try await run(config).stored == 1)
        let files = try FileManager.default.contentsOfDirectory(atPath: day.path).sorted()
        #expect(files.count == 2)
        #expect(files.contains("manifest.jsonl"))
        #expect(!files.contains("000_0123456789abcdef.txt"))
        #expect(files.allSatisfy { !$0.hasPrefix(".tmp-") })
        #expect(try manifestLines().count == 1)
        #expect(try manifestLines().first?["title"] as? String == "Alpha headline")
    }

    @Test func bundledDemoGivesTheFiveSeedStoriesOnce() async throws {
        let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Config/demo.yaml")
        var config = try ConfigLoader.load(path: demo.path)
        config.corpusDirectory = workspace.appendingPathComponent("corpus").path
        config.statePath = workspace.appendingPathComponent("state/demo.sqlite").path
        let summary = try await run(config)
        #expect(summary.feedsFailed == 0)
        #expect(summary.stored == 5)
        #expect(summary.duplicates == 1)
        let files = try storyFiles()
        #expect(files.map { String($0.prefix(4)) } == ["000_", "001_", "002_", "003_", "004_"])
        var headlines: [String] = []
        for file in files {
            let text = try String(contentsOf: workspace.appendingPathComponent("corpus/2024-11-04/\(file)"), encoding: .utf8)
            #expect(text.hasSuffix("\n"))
            #expect(!text.contains("<") && !text.contains("&amp;") && !text.contains("&nbsp;"))
            #expect(!text.contains("\n\n"))
            #expect(!text.contains("Read more") && !text.contains("Leave a") && !text.contains("Kommentare"))
            // The feeds carry teasers; the bundled pages' furniture never reaches the corpus.
            for furniture in ["close close", "cookie", "Advertisement", "Share", "Sign up", "Comments", "Most read", "©", "…"] {
                #expect(!text.contains(furniture), "\(file) contains \(furniture)")
            }
            let lines = text.split(separator: "\n")
            #expect(lines.count >= 5)
            headlines.append(String(lines[0]))
        }
        #expect(Set(headlines).count == 5)
        #expect(headlines.contains("Blinken promises “tough response” for North Korea"))
        let records = try manifestLines()
        #expect(records.allSatisfy { $0["text_source"] as? String == "page" })
        #expect(Set(records.compactMap { $0["canonical_url"] as? String }.filter { $0.hasPrefix("https://") }).count == 5)
        #expect(try await run(config).stored == 0)
    }
}
