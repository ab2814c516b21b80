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

    deinit { server.stop() }

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
        #expect((duplicate.distance ?? 99) <= 3)
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
        let pages = root.appendingPathComponent("Config/demo-pages")
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
}
