import ArticleExtractor
import Dedupe
import FeedConfig
import FeedModel
import FeedParser
import Foundation
import Logging
import Pipeline
import StateStore
import TestSupport
import Testing

/// Duplicate handling end to end, and the event stage on the demo's five seed stories.
@Suite(.serialized) final class DuplicatePassTests {
    let server: TestHTTPServer
    let workspace: URL
    let body = (1...8).map { "Paragraph \($0): the council approved the new bridge over the river after a long debate about costs, traffic and the environment in the old town." }

    init() throws {
        server = try TestHTTPServer()
        workspace = try TemporaryFolder.make(prefix: "dupes")
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

    func configuration(_ feeds: [FeedSource], policy: NearDuplicatePolicy = .keepFirst) -> Configuration {
        var fetch = FetchSettings()
        fetch.hostDelay = 0
        var dedupe = DedupeSettings()
        dedupe.nearDuplicates = policy
        return Configuration(path: workspace.appendingPathComponent("c.yaml").path, corpusDirectory: workspace.appendingPathComponent("corpus").path,
                             statePath: workspace.appendingPathComponent("state.sqlite").path, fetch: fetch, dedupe: dedupe, feeds: feeds.map(Self.withoutPages))
    }

    func run(_ configuration: Configuration) async throws -> PassSummary {
        try await IngestPass(configuration: configuration, logger: Logger(label: "test"), clock: { Date(timeIntervalSince1970: 1_730_721_600) }).run()
    }

    func manifest() throws -> [[String: Any]] {
        let text = try String(contentsOf: workspace.appendingPathComponent("corpus/2024-11-04/manifest.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    @Test func aLightlyEditedSyndicatedCopyIsANearDuplicate() async throws {
        try server.put("a.xml", FeedFixtures.rss(title: "A", items: [FeedFixtures.Item(guid: "a1", title: "Bridge approved", paragraphs: body)]))
        let edited = Array(body.dropLast()) + ["Reporting by the city desk."]
        try server.put("b.xml", FeedFixtures.rss(title: "B", items: [FeedFixtures.Item(guid: "b1", title: "Council says yes to bridge", paragraphs: edited)]))
        let config = configuration([FeedSource(url: server.url("files/a.xml"), name: "a"), FeedSource(url: server.url("files/b.xml"), name: "b")])
        _ = try await run(configuration([config.feeds[0]]))
        let second = try await run(config)
        #expect(second.stored == 0)
        #expect(second.duplicates == 1)
        let duplicate = try #require(try StateStore(path: config.statePath).duplicates().first)
        #expect(duplicate.reason == .nearText)
        #expect((duplicate.similarity ?? 0) >= 0.6)
        #expect(duplicate.duplicateOf == (try manifest().first?["file"] as? String))
    }

    @Test func keepLongerStoresTheFullerUpdateAndSaysWhatItSupersedes() async throws {
        let short = Array(body.prefix(7))
        try server.put("a.xml", FeedFixtures.rss(title: "A", items: [FeedFixtures.Item(guid: "a1", title: "Bridge approved", paragraphs: short)]))
        try server.put("b.xml", FeedFixtures.rss(title: "B", items: [FeedFixtures.Item(
            guid: "b1", title: "Bridge approved (update)", paragraphs: body + ["The mayor said construction would start in spring.", "Opponents said they would appeal."])]))
        let feeds = [FeedSource(url: server.url("files/a.xml"), name: "a"), FeedSource(url: server.url("files/b.xml"), name: "b")]
        _ = try await run(configuration([feeds[0]], policy: .keepLonger))
        let second = try await run(configuration(feeds, policy: .keepLonger))
        #expect(second.stored == 1)
        let lines = try manifest()
        #expect(lines.count == 2)
        #expect(lines[1]["supersedes"] as? String == lines[0]["file"] as? String)
        #expect(lines[1]["near_distance"] as? Int != nil)
    }

    @Test func theSameArticleURLInAnotherFeedIsNotStoredTwice() async throws {
        let link = "https://news.example/2024/bridge?utm_source=feedA"
        try server.put("a.xml", FeedFixtures.rss(title: "A", items: [FeedFixtures.Item(guid: "a1", title: "Bridge", paragraphs: ["Teaser one."], link: link)]))
        try server.put("b.xml", FeedFixtures.rss(title: "B", items: [FeedFixtures.Item(
            guid: "b7", title: "Bridge", paragraphs: ["A different teaser text entirely."], link: "https://NEWS.example/2024/bridge?utm_medium=rss#top")]))
        let config = configuration([FeedSource(url: server.url("files/a.xml"), name: "a"), FeedSource(url: server.url("files/b.xml"), name: "b")])
        _ = try await run(configuration([config.feeds[0]]))
        let second = try await run(config)
        #expect(second.stored == 0)
        #expect(try StateStore(path: config.statePath).duplicates().first?.reason == .sameURL)
    }

    @Test func aURLGuidMovingToAnotherFeedIsTheSameStory() async throws {
        let guid = "https://news.example/stories/98765"
        let first = FeedFixtures.Item(guid: guid, title: "Story", paragraphs: ["First wording of the story."], link: "https://news.example/a")
        let moved = FeedFixtures.Item(guid: guid, title: "Story", paragraphs: ["Quite another wording now."], link: "https://news.example/b")
        try server.put("a.xml", FeedFixtures.rss(title: "A", items: [first]))
        try server.put("b.xml", FeedFixtures.rss(title: "B", items: [moved]))
        let config = configuration([FeedSource(url: server.url("files/a.xml"), name: "a"), FeedSource(url: server.url("files/b.xml"), name: "b")])
        _ = try await run(configuration([config.feeds[0]]))
        #expect(try await run(config).stored == 0)
        #expect(try StateStore(path: config.statePath).duplicates().first?.reason == .sameID)
    }

    @Test func theSeedStoriesFormOneEventAndOtherEventsStayApart() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var seeds: [StoryText] = []
        // The demo's stories as the demo stores them: extracted from its bundled article pages.
        let pages = root.appendingPathComponent("Config/demo-feeds/pages")
        for name in try FileManager.default.contentsOfDirectory(atPath: pages.path).sorted() where name.hasSuffix(".html") {
            let article = ArticleExtractor.extract(html: [UInt8](try Data(contentsOf: pages.appendingPathComponent(name))))
            seeds.append(StoryText(headline: article.title ?? "", paragraphs: article.paragraphs))
        }
        #expect(seeds.count == 6)
        let distinct = Dictionary(seeds.map { (TextFingerprint(story: $0).sha256, $0) }, uniquingKeysWith: { a, _ in a }).values
        #expect(distinct.count == 5)
        let folder = root.appendingPathComponent("Tests/DedupeTests/Fixtures/other-events")
        let others = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map { name in
            StoryText(fileContents: try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8))
        }
        #expect(others.count == 8)

        var grouper = EventGrouper()
        let day = Date(timeIntervalSince1970: 1_730_721_600)
        var assigned: [(String, Bool)] = []
        for (index, story) in (Array(distinct) + others).enumerated() {
            let terms = EventTerms(story: story)
            let (event, _) = grouper.assign(terms: terms, at: day, newEvent: "event-\(index)")
            grouper.add(.init(id: Int64(index), event: event, terms: terms, at: day))
            assigned.append((event, index < distinct.count))
        }
        let seedEvents = Set(assigned.filter(\.1).map(\.0))
        let otherEvents = assigned.filter { !$0.1 }.map(\.0)
        #expect(seedEvents.count == 1)
        #expect(otherEvents.allSatisfy { !seedEvents.contains($0) })
        #expect(Set(otherEvents).count == otherEvents.count)
    }

    /// The same story reaches three feeds (an exact copy at another URL and a lightly edited
    /// copy). Whichever feed's fetch finishes first, the story of the first feed in the config is
    /// the one stored: the slow route makes a different feed finish last in each run.
    @Test func theStoredStoriesDoNotDependOnWhichFetchFinishesFirst() async throws {
        let edited = Array(body.dropLast()) + ["Reporting by the city desk."]
        let other = (1...6).map { "Item \($0): the harbour authority opened a new ferry terminal with room for four ships and a rail link to the airport." }
        try server.put("a.xml", FeedFixtures.rss(title: "A", items: [
            FeedFixtures.Item(guid: "a1", title: "Bridge approved", paragraphs: body, link: "https://a.example/bridge")]))
        try server.put("b.xml", FeedFixtures.rss(title: "B", items: [
            FeedFixtures.Item(guid: "b1", title: "Council backs bridge", paragraphs: edited, link: "https://b.example/bridge"),
            FeedFixtures.Item(guid: "b2", title: "Ferry terminal opens", paragraphs: other, link: "https://b.example/ferry")]))
        try server.put("c.xml", FeedFixtures.rss(title: "C", items: [
            FeedFixtures.Item(guid: "c1", title: "Bridge gets go-ahead", paragraphs: body, link: "https://c.example/bridge")]))
        var outcomes: [[String]] = []
        for slow in ["a.xml", "b.xml", "c.xml"] {
            try? FileManager.default.removeItem(at: workspace.appendingPathComponent("corpus"))
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: workspace.appendingPathComponent("state.sqlite").path + suffix) }
            let feeds = ["a.xml", "b.xml", "c.xml"].map { name in
                FeedSource(url: server.url(name == slow ? "slow/0.6/\(name)" : "files/\(name)"), name: String(name.prefix(1)))
            }
            let summary = try await run(configuration(feeds))
            #expect(summary.stored == 2)
            #expect(summary.reports.map(\.name) == ["a", "b", "c"])
            outcomes.append(try manifest().map { "\($0["file"] ?? "") \($0["feed"] ?? "") \($0["url"] ?? "")" })
        }
        #expect(outcomes[0].count == 2)
        #expect(outcomes[0].contains { $0.hasSuffix("a https://a.example/bridge") })
        #expect(outcomes[1] == outcomes[0])
        #expect(outcomes[2] == outcomes[0])
    }

    /// A state written before schema 5 has no MinHash signatures: they are computed from the
    /// corpus files at the next start, and its stories are still found as near duplicates.
    @Test func storiesFromAnOlderStateGetSignaturesFromTheirFiles() async throws {
        try server.put("a.xml", FeedFixtures.rss(title: "A", items: [FeedFixtures.Item(guid: "a1", title: "Bridge approved", paragraphs: body)]))
        let edited = Array(body.dropLast()) + ["Reporting by the city desk."]
        try server.put("b.xml", FeedFixtures.rss(title: "B", items: [FeedFixtures.Item(guid: "b1", title: "Council says yes", paragraphs: edited)]))
        let config = configuration([FeedSource(url: server.url("files/a.xml"), name: "a"), FeedSource(url: server.url("files/b.xml"), name: "b")])
        _ = try await run(configuration([config.feeds[0]]))
        // What an older version left: no signatures, a SimHash of the old kind.
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.execute("UPDATE stories SET minhash = NULL, lead_minhash = NULL, simhash = 12345")
            db.commit()
            """, config.statePath]
        try python.run()
        python.waitUntilExit()
        #expect(python.terminationStatus == 0)
        let second = try await run(config)
        #expect(second.stored == 0)
        let duplicate = try #require(try StateStore(path: config.statePath).duplicates().first)
        #expect(duplicate.reason == .nearText)
        var rewritten = 0
        try StateStore(path: config.statePath).forEachFingerprint { row in
            if row.minhash != nil && row.simhash != 12345 { rewritten += 1 }
        }
        #expect(rewritten == 1)
    }
}
