import FeedConfig
import FeedModel
import Foundation
import Logging
import Pipeline
import TestSupport
import Testing

/// Article pages end to end: teaser feeds on a loopback server link to article pages there.
@Suite(.serialized) final class FullTextPassTests {
    let server: TestHTTPServer
    let workspace: URL
    let story = [
        "The city council approved the new bridge on Monday, ending a debate that lasted three years and divided the old town.",
        "Construction will begin in the spring, the mayor said, and the bridge should open to pedestrians and cyclists by 2027.",
        "Opponents had argued that the money, about 40 million euros, would be better spent on schools, buses and housing.",
        "The council's decision follows a public consultation in which a narrow majority of residents supported the plan.",
    ]

    init() throws {
        server = try TestHTTPServer()
        workspace = try TemporaryFolder.make(prefix: "fulltext")
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(at: workspace)
    }

    func configuration(_ feeds: [FeedSource], robots: Bool = true) -> Configuration {
        var fetch = FetchSettings()
        fetch.hostDelay = 0
        fetch.allowPrivateNetworks = true  // The article pages are on 127.0.0.1.
        fetch.robotsTxt = robots
        return Configuration(path: workspace.appendingPathComponent("c.yaml").path, corpusDirectory: workspace.appendingPathComponent("corpus").path,
                             statePath: workspace.appendingPathComponent("state.sqlite").path, fetch: fetch, feeds: feeds)
    }

    func run(_ configuration: Configuration) async throws -> PassSummary {
        try await IngestPass(configuration: configuration, logger: Logger(label: "test"), pollAll: true,
                             clock: { Date(timeIntervalSince1970: 1_730_721_600) }).run()
    }

    func manifest() throws -> [[String: Any]] {
        let text = try String(contentsOf: workspace.appendingPathComponent("corpus/2024-11-04/manifest.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    func storyText(_ record: [String: Any]) throws -> StoryText {
        let file = try #require(record["file"] as? String)
        return StoryText(fileContents: try String(contentsOf: workspace.appendingPathComponent("corpus/\(file)"), encoding: .utf8))
    }

    /// A news page: navigation, share links and comments around the story.
    func articlePage(_ paragraphs: [String], canonical: String = "https://city.example/2024/bridge") -> String {
        """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Council approves bridge | City News</title>
        <link rel="canonical" href="\(canonical)"><meta name="author" content="Ann Lee"></head>
        <body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
        <article><h1>Council approves bridge</h1><div class="share"><a href="#">Share</a></div>
        <div class="article-body">\(paragraphs.map { "<p>\($0)</p>" }.joined())</div>
        <section class="comments"><p>Leave a review: comments are closed for this story.</p></section></article>
        <footer>© City News</footer></body></html>
        """
    }

    func teaserFeed(link: String, guid: String = "bridge-1") -> String {
        FeedFixtures.rss(title: "City", items: [FeedFixtures.Item(
            guid: guid, title: "Council approves bridge", paragraphs: [String(story[0].prefix(60)) + " …"], link: link)])
    }

    @Test func aTeaserIsReplacedByTheArticlePageTextOnce() async throws {
        try server.put("bridge.html", articlePage(story))
        try server.put("feed.xml", teaserFeed(link: server.url("files/bridge.html")))
        let config = configuration([FeedSource(url: server.url("files/feed.xml"), name: "city")])
        let summary = try await run(config)
        #expect(summary.stored == 1)
        let record = try #require(try manifest().first)
        #expect(record["text_source"] as? String == "page")
        #expect(record["canonical_url"] as? String == "https://city.example/2024/bridge")
        #expect(record["author"] as? String == "Ann Lee")
        let text = try storyText(record)
        #expect(text.headline == "Council approves bridge")
        #expect(text.paragraphs == story)
        // The robots.txt of the host was asked first, then the page; a second poll fetches nothing again.
        #expect(server.requestedPaths().filter { $0 == "/robots.txt" }.count == 1)
        #expect(server.requestedPaths().filter { $0 == "/files/bridge.html" }.count == 1)
        _ = try await run(config)
        #expect(server.requestedPaths().filter { $0 == "/files/bridge.html" }.count == 1)
    }

    @Test func pagesOfOneHostFetchedTogetherAskForRobotsTxtOnce() async throws {
        let topics = ["harbour dredging", "school meals", "tram timetable", "library opening hours"]
        var items: [FeedFixtures.Item] = []
        for (offset, topic) in topics.enumerated() {
            let index = offset + 1
            let text = (1...4).map { "Part \($0) on the \(topic): councillors \(topic.split(separator: " ").reversed().joined(separator: " and ")) argued for \($0 * 7 + index) minutes before the vote, with \(topic) dominating the session." }
            try server.put("story\(index).html", articlePage(text, canonical: server.url("files/story\(index).html")))
            items.append(FeedFixtures.Item(guid: "s\(index)", title: "Story \(index)", paragraphs: ["Story \(index) in short …"],
                                           link: server.url("files/story\(index).html")))
        }
        try server.put("feed.xml", FeedFixtures.rss(title: "City", items: items))
        let summary = try await run(configuration([FeedSource(url: server.url("files/feed.xml"), name: "city")]))
        #expect(summary.stored == 4)
        #expect(server.requestedPaths().filter { $0 == "/robots.txt" }.count == 1)
        #expect(try manifest().allSatisfy { $0["text_source"] as? String == "page" })
    }

    @Test func robotsTxtDisallowingThePageKeepsTheFeedText() async throws {
        try server.put("robots.txt", "User-agent: *\nDisallow: /files/\n")
        try server.put("bridge.html", articlePage(story))
        try server.put("feed.xml", teaserFeed(link: server.url("files/bridge.html")))
        let summary = try await run(configuration([FeedSource(url: server.url("files/feed.xml"), name: "city")]))
        #expect(summary.stored == 1)
        #expect(!server.requestedPaths().contains("/files/bridge.html"))
        let record = try #require(try manifest().first)
        #expect(record["text_source"] as? String == "feed")
        #expect(summary.reports.first?.warning?.contains("robots.txt disallows") == true)
    }

    @Test func aPageOnARefusedAddressSaysSoNotRobotsTxt() async throws {
        try server.put("bridge.html", articlePage(story))
        try server.put("feed.xml", teaserFeed(link: server.url("files/bridge.html")))
        var config = configuration([FeedSource(url: server.url("files/feed.xml"), name: "city")])
        config.fetch.allowPrivateNetworks = false  // the feed is configured (trusted); its link is not
        let summary = try await run(config)
        #expect(summary.stored == 1)
        #expect(!server.requestedPaths().contains("/files/bridge.html"))
        #expect(!server.requestedPaths().contains("/robots.txt"))
        let warning = try #require(summary.reports.first?.warning)
        #expect(warning.contains("address not allowed (127.0.0.1 is loopback)"), "\(warning)")
        #expect(!warning.contains("robots.txt"), "\(warning)")
    }

    /// A local feed (`file://`) in its own folder, linking to `links`.
    func localFeed(links: [String], folder: URL) throws -> String {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let feed = FeedFixtures.rss(title: "Local", items: links.enumerated().map { index, link in
            FeedFixtures.Item(guid: "local-\(index)", title: "Local story \(index)", paragraphs: ["Story \(index): " + String(story[0].prefix(50)) + " …"], link: link)
        })
        let url = folder.appendingPathComponent("local.rss")
        try feed.write(to: url, atomically: true, encoding: .utf8)
        return url.absoluteString
    }

    @Test func aLocalFeedReadsLocalPagesOnlyFromItsFolderAndOnlyWhenAllowed() async throws {
        let folder = workspace.appendingPathComponent("local-feed")
        let outside = workspace.appendingPathComponent("outside.html")
        try articlePage(story).write(to: outside, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("pages"), withIntermediateDirectories: true)
        try articlePage(story.map { $0 + " Inside." }).write(to: folder.appendingPathComponent("pages/inside.html"), atomically: true, encoding: .utf8)
        // A link inside the folder that points out of it is outside too.
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("pages/escape.html"), withDestinationURL: outside)
        let feedURL = try localFeed(links: [
            folder.appendingPathComponent("pages/inside.html").absoluteString, "file:///etc/passwd",
            folder.appendingPathComponent("../outside.html").absoluteString, folder.appendingPathComponent("pages/escape.html").absoluteString,
        ], folder: folder)

        var config = configuration([FeedSource(url: feedURL, name: "local")])
        config.fetch.localPages = false
        let without = try await run(config)
        #expect(without.stored == 4)
        #expect(try manifest().allSatisfy { $0["text_source"] as? String == "feed" })
        #expect(without.reports.first?.warning?.contains("fetch.local_pages") == true)

        try FileManager.default.removeItem(at: workspace.appendingPathComponent("corpus"))
        try FileManager.default.removeItem(at: workspace.appendingPathComponent("state.sqlite"))
        config.fetch.localPages = true
        let with = try await run(config)
        #expect(with.stored == 4)
        let sources = try manifest().map { ($0["title"] as? String ?? "", $0["text_source"] as? String ?? "") }.sorted { $0.0 < $1.0 }
        #expect(sources.map(\.1) == ["page", "feed", "feed", "feed"], "\(sources)")
        let text = try manifest().compactMap { try storyText($0).body }.joined()
        #expect(!text.contains("root:"))  // /etc/passwd never reached the corpus
        #expect(with.reports.first?.warning?.contains("only to files in its own folder") == true)
    }

    @Test func credentialsInAFeedURLStayInTheConfig() async throws {
        try server.put("feed.xml", teaserFeed(link: server.url("files/missing.html")))
        let url = server.url("files/feed.xml").replacingOccurrences(of: "http://", with: "http://reader:s3cret@")
        let summary = try await run(configuration([FeedSource(url: url, name: "private-feed")]))
        #expect(summary.stored == 1)
        let manifestText = try String(contentsOf: workspace.appendingPathComponent("corpus/2024-11-04/manifest.jsonl"), encoding: .utf8)
        #expect(!manifestText.contains("s3cret") && !manifestText.contains("reader@") && !manifestText.contains("reader:"))
        #expect(try manifest().first?["feed_url"] as? String == server.url("files/feed.xml"))
    }

    @Test func aPageWhoseExtractionPassesTheDeadlineKeepsTheFeedText() async throws {
        // A 4 MB page takes far longer than a millisecond to parse: the pass moves on without it.
        try server.put("bridge.html", articlePage(Array(repeating: story, count: 8_000).flatMap { $0 }))
        try server.put("feed.xml", teaserFeed(link: server.url("files/bridge.html")))
        var config = configuration([FeedSource(url: server.url("files/feed.xml"), name: "city")])
        config.fetch.extractTimeout = 0.001
        let summary = try await run(config)
        #expect(summary.stored == 1)
        #expect(try manifest().first?["text_source"] as? String == "feed")
        #expect(summary.reports.first?.warning?.contains("took longer than 0.001 s (fetch.extract_timeout)") == true, "\(summary.reports.first?.warning ?? "")")
    }

    @Test func pagesPerPollAreCapped() async throws {
        try server.put("bridge.html", articlePage(story))
        try server.put("feed.xml", FeedFixtures.rss(title: "City", items: (0..<5).map { index in
            FeedFixtures.Item(guid: "t\(index)", title: "Teaser \(index)", paragraphs: ["Teaser number \(index) about the council …"],
                              link: server.url("files/bridge.html?n=\(index)"))
        }))
        var config = configuration([FeedSource(url: server.url("files/feed.xml"), name: "city")])
        config.fetch.maxPagesPerPoll = 2
        let summary = try await run(config)
        #expect(server.requestedPaths().filter { $0.hasPrefix("/files/bridge.html") }.count == 2)
        #expect(summary.reports.first?.warning?.contains("only 2 are fetched per poll (fetch.max_pages_per_poll)") == true)
    }

    @Test func entriesPerFeedAreCappedForJSONFeedToo() async throws {
        let items = (0..<3_000).map { "{\"id\": \($0), \"url\": \"https://j.example/\($0)\", \"title\": \"Item \($0)\", \"content_text\": \"Story number \($0) of a very long feed.\"}" }
        try server.put("feed.json", "{\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": \"J\", \"items\": [\(items.joined(separator: ","))]}")
        var config = configuration([FeedSource(url: server.url("files/feed.json"), name: "json", fullText: .never)])
        config.fetch.maxEntriesPerFeed = 40
        let summary = try await run(config)
        let report = try #require(summary.reports.first)
        #expect(report.entriesSeen == 40)
        #expect(summary.stored == 40)
        #expect(report.warning?.contains("the feed has 3000 entries; only the first 40 are read (fetch.max_entries_per_feed)") == true, "\(report.warning ?? "")")
    }

    @Test func robotsTxtCanBeSwitchedOff() async throws {
        try server.put("robots.txt", "User-agent: *\nDisallow: /\n")
        try server.put("bridge.html", articlePage(story))
        try server.put("feed.xml", teaserFeed(link: server.url("files/bridge.html")))
        _ = try await run(configuration([FeedSource(url: server.url("files/feed.xml"), name: "city")], robots: false))
        #expect(!server.requestedPaths().contains("/robots.txt"))
        #expect(try manifest().first?["text_source"] as? String == "page")
    }

    @Test func neverFetchesNoPageAndAFullFeedNeedsNone() async throws {
        try server.put("bridge.html", articlePage(story))
        try server.put("teaser.xml", teaserFeed(link: server.url("files/bridge.html")))
        let long = (1...6).map { "Paragraph \($0) of a full story the feed carries itself, long enough that no summary rule fires, with detail upon detail." }
        try server.put("full.xml", FeedFixtures.rss(title: "Full", items: [FeedFixtures.Item(
            guid: "full-1", title: "A full story", paragraphs: long, link: server.url("files/bridge.html?full"))]))
        var never = FeedSource(url: server.url("files/teaser.xml"), name: "never")
        never.fullText = .never
        let summary = try await run(configuration([never, FeedSource(url: server.url("files/full.xml"), name: "full")]))
        #expect(summary.stored == 2)
        #expect(!server.requestedPaths().contains { $0.hasPrefix("/files/bridge.html") })
        #expect(try manifest().allSatisfy { $0["text_source"] as? String == "feed" })
    }

    @Test func alwaysFetchesEvenForAFullFeed() async throws {
        try server.put("bridge.html", articlePage(story))
        let long = story + ["Reporting by the city desk; this version of the text comes from the feed itself, not the page."]
        try server.put("full.xml", FeedFixtures.rss(title: "Full", items: [FeedFixtures.Item(
            guid: "full-1", title: "Council approves bridge", paragraphs: long + long, link: server.url("files/bridge.html"))]))
        var always = FeedSource(url: server.url("files/full.xml"), name: "always")
        always.fullText = .always
        _ = try await run(configuration([always]))
        #expect(server.requestedPaths().contains("/files/bridge.html"))
        // The page's text is shorter than the feed's: the feed's is kept.
        #expect(try manifest().first?["text_source"] as? String == "feed")
    }

    @Test func aPaywallPageKeepsTheFeedTextAndAMissingPageIsReported() async throws {
        try server.put("wall.html", "<html><body><article><p>\(story[0])</p><p>Subscribe to continue reading. Already a subscriber? Log in to read the full story.</p></article></body></html>")
        try server.put("a.xml", teaserFeed(link: server.url("files/wall.html"), guid: "a"))
        try server.put("b.xml", FeedFixtures.rss(title: "B", items: [FeedFixtures.Item(
            guid: "b", title: "Another story", paragraphs: ["A short teaser for a page that is gone …"], link: server.url("files/gone.html"))]))
        let summary = try await run(configuration([FeedSource(url: server.url("files/a.xml"), name: "a"), FeedSource(url: server.url("files/b.xml"), name: "b")]))
        #expect(summary.stored == 2)
        #expect(try manifest().allSatisfy { $0["text_source"] as? String == "feed" })
        let b = try #require(summary.reports.first { $0.name == "b" })
        #expect(b.warning?.contains("HTTP 404") == true)
    }

    @Test func aPageWhoseCanonicalURLIsAStoredStoryIsADuplicate() async throws {
        try server.put("bridge.html", articlePage(story, canonical: server.url("files/bridge.html")))
        try server.put("copy.html", articlePage(story.map { $0.replacingOccurrences(of: "bridge", with: "crossing") }, canonical: server.url("files/bridge.html")))
        try server.put("a.xml", teaserFeed(link: server.url("files/bridge.html"), guid: "a"))
        try server.put("b.xml", teaserFeed(link: server.url("files/copy.html?from=b"), guid: "b"))
        let config = configuration([FeedSource(url: server.url("files/a.xml"), name: "a"), FeedSource(url: server.url("files/b.xml"), name: "b")])
        _ = try await run(configuration([config.feeds[0]]))
        let second = try await run(config)
        #expect(second.stored == 0)
        #expect(second.duplicates == 1)
    }
}
