import FeedConfig
import FeedModel
import DatesAndCharsets
import Foundation
import Logging
import Pipeline
import StateStore
import TestSupport
import Testing

/// Backfill end to end: a loopback site whose feed shows 10 entries while 50 are published
/// between two polls, recovered from an RFC 5005 archive, or from a news sitemap, or (with
/// neither) reported and nothing guessed.
@Suite(.serialized) final class BackfillPassTests {
    let server: TestHTTPServer
    let workspace: URL
    let clock = TestClock(Date(timeIntervalSince1970: 1_730_700_000))
    /// Story n (1...60) is published at `base + n × 10 minutes`.
    let base = Date(timeIntervalSince1970: 1_730_700_000)
    let hostDelay = 0.1

    init() throws {
        server = try TestHTTPServer()
        workspace = try TemporaryFolder.make(prefix: "backfill")
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(at: workspace)
    }

    // MARK: The site

    func published(_ n: Int) -> Date { base.addingTimeInterval(Double(n) * 600) }

    /// Four paragraphs of words that no other story shares in order (a seeded generator over a
    /// large made-up vocabulary), so that only planted copies are duplicates.
    func paragraphs(_ n: Int) -> [String] {
        var state = UInt64(n) &* 0x9E37_79B9_7F4A_7C15 &+ 12345
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        let consonants = Array("bcdfghklmnprstvz"), vowels = Array("aeiou")
        func word() -> String {
            String((0..<(2 + next() % 2)).flatMap { _ in [consonants[next() % consonants.count], vowels[next() % vowels.count]] })
        }
        return (0..<4).map { _ in
            (0..<3).map { _ in
                let sentence = (0..<14).map { _ in word() }.joined(separator: " ")
                return sentence.prefix(1).uppercased() + sentence.dropFirst() + "."
            }.joined(separator: " ")
        }
    }

    func title(_ n: Int) -> String { "Story number \(n) of the day" }
    func pagePath(_ n: Int) -> String { "news/story-\(n).html" }

    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// An RSS item with the story's whole text, or only its first sentence (a teaser).
    func rssItem(_ n: Int, teaser: Bool = false) -> String {
        let text = teaser ? [String(paragraphs(n)[0].prefix(80)) + " …"] : paragraphs(n)
        return """
            <item><title>\(title(n))</title><link>\(server.url(pagePath(n)))</link><guid isPermaLink="false">story-\(n)</guid>
            <pubDate>\(HTTPDate.format(published(n)))</pubDate>
            <description>\(escape(text.map { "<p>\($0)</p>" }.joined()))</description></item>
            """
    }

    /// The feed showing stories `range`, newest first, with an optional RFC 5005 archive link.
    func rssFeed(_ range: ClosedRange<Int>, teaser: Bool = false, prevArchive: String? = nil) -> String {
        let link = prevArchive.map { "<atom:link rel=\"prev-archive\" href=\"\($0)\"/>" } ?? ""
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>Site</title>
            <link>\(server.url(""))</link><description>test</description>\(link)
            \(range.reversed().map { rssItem($0, teaser: teaser) }.joined(separator: "\n"))
            </channel></rss>
            """
    }

    /// An Atom archive document (RFC 5005 section 4) of stories `range`, plus `extra` entries.
    func atomArchive(_ range: ClosedRange<Int>, prevArchive: String?, extra: String = "") -> String {
        let entries = range.reversed().map { n in
            """
            <entry><title>\(title(n))</title><id>story-\(n)</id><link href="\(server.url(pagePath(n)))"/>
            <published>\(ISO8601.string(published(n)))</published><updated>\(ISO8601.string(published(n)))</updated>
            <content type="html">\(escape(paragraphs(n).map { "<p>\($0)</p>" }.joined()))</content></entry>
            """
        }.joined(separator: "\n")
        let link = prevArchive.map { "<link rel=\"prev-archive\" href=\"\($0)\"/>" } ?? ""
        return """
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom" xmlns:fh="http://purl.org/syndication/history/1.0">
            <title>Site archive</title><id>urn:site:archive</id><updated>\(ISO8601.string(base))</updated><fh:archive/>
            <link rel="current" href="\(server.url("feed.xml"))"/>\(link)
            \(entries)\(extra)
            </feed>
            """
    }

    func articlePage(_ n: Int) -> String {
        """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>\(title(n)) | Site</title></head>
        <body><nav><a href="/">Home</a></nav><article><h1>\(title(n))</h1>
        <div class="article-body">\(paragraphs(n).map { "<p>\($0)</p>" }.joined())</div></article><footer>© Site</footer></body></html>
        """
    }

    /// Writes a file the server serves at its own path (`/news/story-1.html`, `/robots.txt`...).
    func serve(_ path: String, _ contents: String) throws {
        try serve(path, Data(contents.utf8))
    }

    func serve(_ path: String, _ data: Data) throws {
        let file = path == "robots.txt" ? server.root.appendingPathComponent(path) : server.root.appendingPathComponent("site/" + path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file, options: .atomic)
    }

    // MARK: Running

    func configuration(fullText: FullTextPolicy = .never, backfill: BackfillSettings = BackfillSettings(),
                       perPass: BackfillPassLimits = BackfillPassLimits()) -> Configuration {
        var fetch = FetchSettings()
        fetch.hostDelay = hostDelay
        fetch.allowPrivateNetworks = true
        var configuration = Configuration(
            path: workspace.appendingPathComponent("c.yaml").path, corpusDirectory: workspace.appendingPathComponent("corpus").path,
            statePath: workspace.appendingPathComponent("state.sqlite").path, fetch: fetch,
            feeds: [FeedSource(url: server.url("feed.xml"), name: "site", fullText: fullText)])
        configuration.backfill = backfill
        configuration.backfillPerPass = perPass
        return configuration
    }

    func pass(_ configuration: Configuration, at time: Date) async throws -> PassSummary {
        clock.now = time
        return try await IngestPass(configuration: configuration, logger: Logger(label: "test"), pollAll: true, clock: { [clock] in clock.now }).run()
    }

    /// Every manifest line of the corpus.
    func manifest() throws -> [[String: Any]] {
        let corpus = workspace.appendingPathComponent("corpus")
        var records: [[String: Any]] = []
        for folder in try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted() {
            let file = corpus.appendingPathComponent(folder).appendingPathComponent("manifest.jsonl")
            guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                records.append(try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]))
            }
        }
        return records
    }

    func status() throws -> FeedStatus {
        try #require(try StateStore.openReadOnly(path: workspace.appendingPathComponent("state.sqlite").path).feedStatuses().first)
    }

    /// The story numbers in the corpus, from the stored headlines.
    func storedStories() throws -> [Int] {
        try manifest().compactMap { ($0["title"] as? String)?.split(separator: " ").dropFirst(2).first.flatMap { Int($0) } }.sorted()
    }

    /// No two requests to the server, from the `first`th on (one pass's: each one-shot pass has
    /// a client of its own), started closer than the host delay (allowing for timer slack).
    func expectPoliteSpacing(from first: Int) {
        let requests = server.requests().dropFirst(first).sorted { $0.time < $1.time }
        let gaps = zip(requests.dropFirst(), requests).map { (gap: $0.time - $1.time, pair: "\($1.path) → \($0.path)") }
        #expect(!gaps.isEmpty)
        let closest = gaps.min { $0.gap < $1.gap }
        #expect((closest?.gap ?? 0) >= hostDelay * 0.8, "closest requests \(closest?.gap ?? 0) s apart: \(closest?.pair ?? "")")
    }

    // MARK: Tests

    @Test func anArchivedFeedIsWalkedBackToTheLastKnownEntry() async throws {
        try serve("feed.xml", rssFeed(1...10))
        let config = configuration()
        let first = try await pass(config, at: published(10).addingTimeInterval(300))
        #expect(first.stored == 10)
        #expect(first.backfills.isEmpty)

        // 50 stories later the feed shows the last 10; its archive documents hold the rest, ten
        // each, and the third also holds a syndicated copy of story 12 under another id.
        try serve("feed.xml", rssFeed(51...60, prevArchive: server.url("archive/5.xml")))
        let firstPassRequests = server.requests().count
        let copy = """
            <entry><title>Copy of a story</title><id>urn:wire:12</id><link href="\(server.url("wire/12.html"))"/>
            <published>\(ISO8601.string(published(12).addingTimeInterval(120)))</published>
            <content type="html">\(escape(paragraphs(12).map { "<p>\($0)</p>" }.joined()))</content></entry>
            """
        for page in 1...5 {
            let range = (page * 10 - 9)...(page * 10)
            try serve("archive/\(page).xml", atomArchive(range, prevArchive: page > 1 ? server.url("archive/\(page - 1).xml") : nil,
                                                        extra: page == 2 ? copy : ""))
        }
        let second = try await pass(config, at: published(60).addingTimeInterval(300))
        #expect(second.reports.first?.windowOverflow == true)
        #expect(second.reports.first?.backfillScheduled == .overflow)
        let backfill = try #require(second.backfills.first)
        #expect(backfill.storedViaArchive == 40)
        #expect(backfill.duplicates == 1)
        #expect(backfill.duplicatesByReason == ["same_text": 1])
        #expect(backfill.result?.contains("recovered 40 stories") == true)
        #expect(try storedStories() == Array(1...60))
        let via = try manifest().reduce(into: [String: Int]()) { $0[($1["via"] as? String) ?? "feed"] = ($0[($1["via"] as? String) ?? "feed"] ?? 0) + 1 }
        #expect(via == ["feed": 20, "archive": 40])

        // Archive 1 holds only known entries: the walk ends there; the gap is closed, so no
        // sitemap is looked for.
        let paths = server.requestedPaths()
        #expect(paths.filter { $0.hasPrefix("/archive/") } == ["/archive/5.xml", "/archive/4.xml", "/archive/3.xml", "/archive/2.xml", "/archive/1.xml"])
        #expect(!paths.contains("/robots.txt") && !paths.contains("/sitemap.xml"))
        expectPoliteSpacing(from: firstPassRequests)

        let status = try status()
        #expect(status.windowOverflows == 1)
        #expect(status.backfilledStories == 40)
        #expect(status.storiesStored == 60)
        #expect(!status.backfillPending)
        #expect(status.lastBackfill?.contains("5 archive pages read") == true)

        // Nothing is stored twice: the same documents again store nothing, and start no backfill.
        let third = try await pass(config, at: published(60).addingTimeInterval(900))
        #expect(third.stored == 0)
        #expect(third.backfills.isEmpty)
    }

    @Test func aBackfillOverItsPassBudgetContinuesAtTheNextPass() async throws {
        try serve("feed.xml", rssFeed(1...10))
        let config = configuration(perPass: BackfillPassLimits(maxPages: 2, maxURLs: 10))
        _ = try await pass(config, at: published(10).addingTimeInterval(300))
        try serve("feed.xml", rssFeed(51...60, prevArchive: server.url("archive/5.xml")))
        for page in 1...5 {
            try serve("archive/\(page).xml", atomArchive((page * 10 - 9)...(page * 10), prevArchive: page > 1 ? server.url("archive/\(page - 1).xml") : nil))
        }
        let second = try await pass(config, at: published(60).addingTimeInterval(300))
        let paused = try #require(second.backfills.first)
        #expect(paused.storedViaArchive == 20)
        #expect(paused.result == nil)
        #expect(paused.paused?.contains("max_pages_per_pass") == true)
        #expect(try status().backfillPending)

        let third = try await pass(config, at: published(60).addingTimeInterval(900))
        #expect(third.backfills.first?.storedViaArchive == 20)
        let fourth = try await pass(config, at: published(60).addingTimeInterval(1500))
        #expect(fourth.backfills.first?.result != nil)
        #expect(try storedStories() == Array(1...60))
        #expect(try status().backfilledStories == 40)
        #expect(try !status().backfillPending)
        // Each archive document was read once across the three passes.
        #expect(server.requestedPaths().filter { $0.hasPrefix("/archive/") }.count == 5)
    }

    @Test func aNewsSitemapRecoversTheGapOnly() async throws {
        // Teaser feeds: every story's text comes from its page.
        for n in 1...60 { try serve(pagePath(n), articlePage(n)) }
        try serve("feed.xml", rssFeed(1...10, teaser: true))
        let config = configuration(fullText: .auto)
        let first = try await pass(config, at: published(10).addingTimeInterval(300))
        #expect(first.stored == 10)

        try serve("feed.xml", rssFeed(51...60, teaser: true))
        let firstPassRequests = server.requests().count
        try serve("robots.txt", "User-agent: *\nDisallow: /private/\nSitemap: \(server.url("sitemap_index.xml"))\n")
        // The index names a recent news sitemap (gzip) and an old one, unchanged since before the gap.
        try serve("sitemap_index.xml", """
            <?xml version="1.0" encoding="UTF-8"?>
            <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <sitemap><loc>\(server.url("sitemaps/old.xml"))</loc><lastmod>2019-01-01</lastmod></sitemap>
            <sitemap><loc>\(server.url("sitemaps/news.xml.gz"))</loc><lastmod>\(ISO8601.string(published(60)))</lastmod></sitemap>
            </sitemapindex>
            """)
        func url(_ loc: String, _ date: Date?, title: String? = nil) -> String {
            let news = date.map { """
                <news:news><news:publication><news:name>Site</news:name><news:language>en</news:language></news:publication>
                <news:publication_date>\(ISO8601.string($0))</news:publication_date><news:title>\(title ?? "x")</news:title></news:news>
                """ } ?? ""
            return "<url><loc>\(loc)</loc>\(news)</url>"
        }
        var urls = (1...60).map { url(server.url(pagePath($0)), published($0), title: title($0)) }
        // Outside the gap (a week old), outside the feed's section, undated: none is fetched.
        urls.append(url(server.url("news/old-story.html"), base.addingTimeInterval(-7 * 86_400)))
        urls.append(url(server.url("sport/match.html"), published(30)))
        urls.append(url(server.url("news/undated.html"), nil))
        let sitemap = """
            <?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
            \(urls.joined(separator: "\n"))
            </urlset>
            """
        try serve("sitemaps/news.xml.gz", try GzipTool.compress(Data(sitemap.utf8)))
        try serve("sitemaps/old.xml", "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"></urlset>")

        let second = try await pass(config, at: published(60).addingTimeInterval(300))
        let backfill = try #require(second.backfills.first)
        #expect(backfill.storedViaSitemap == 40)
        #expect(backfill.urlsFetched == 40)
        #expect(try storedStories() == Array(1...60))
        let records = try manifest()
        #expect(records.filter { $0["via"] as? String == "sitemap" }.count == 40)
        #expect(records.allSatisfy { $0["text_source"] as? String == "page" })

        let paths = server.requestedPaths()
        for skipped in ["/sitemaps/old.xml", "/news/old-story.html", "/sport/match.html", "/news/undated.html"] {
            #expect(!paths.contains(skipped), "\(skipped) was requested")
        }
        // Every story page was fetched once: the first poll's ten and the feed's last ten are known.
        for n in 1...60 { #expect(paths.filter { $0 == "/" + pagePath(n) }.count == 1, "story \(n)") }
        // robots.txt once per pass (each one-shot pass starts with an empty cache).
        #expect(paths.filter { $0 == "/robots.txt" }.count == 2)
        expectPoliteSpacing(from: firstPassRequests)
        let status = try status()
        #expect(status.backfilledStories == 40)
        #expect(status.lastBackfill?.contains("40 via sitemap") == true)
    }

    @Test func aHugeSitemapIndexIsReadOnlyWithinTheCaps() async throws {
        try serve("feed.xml", rssFeed(1...10))
        var settings = BackfillSettings()
        settings.maxPages = 4
        let config = configuration(fullText: .auto, backfill: settings)
        _ = try await pass(config, at: published(10).addingTimeInterval(300))
        try serve("feed.xml", rssFeed(51...60))
        try serve("robots.txt", "User-agent: *\nSitemap: \(server.url("index.xml"))\n")
        let children = (1...2000).map { "<sitemap><loc>\(server.url("maps/\($0).xml"))</loc><lastmod>\(ISO8601.string(published(60)))</lastmod></sitemap>" }
        try serve("index.xml", "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\(children.joined())</sitemapindex>")
        let second = try await pass(config, at: published(60).addingTimeInterval(300))
        let backfill = try #require(second.backfills.first)
        // The index, /sitemap.xml (already queued) and two of the index's sitemaps (all 404
        // here): four documents, no more, and the job never queued the other 1998.
        #expect(backfill.documentsFetched == 4)
        #expect(server.requestedPaths().filter { $0.hasPrefix("/maps/") }.count == 2)
        #expect(backfill.result?.contains("1998 sitemaps of") == true, "\(backfill.result ?? "")")
    }

    @Test func aSiteWithNeitherArchiveNorSitemapKeepsTheOverflowReported() async throws {
        try serve("feed.xml", rssFeed(1...10))
        let config = configuration(fullText: .auto)
        _ = try await pass(config, at: published(10).addingTimeInterval(300))
        try serve("feed.xml", rssFeed(51...60))
        let second = try await pass(config, at: published(60).addingTimeInterval(300))
        #expect(second.stored == 10)
        let backfill = try #require(second.backfills.first)
        #expect(backfill.stored == 0)
        #expect(backfill.result?.contains("nothing recovered") == true)
        #expect(backfill.result?.contains("no archive link in the feed") == true)
        #expect(backfill.result?.contains("no sitemap at") == true)
        // What was asked for: the feed, robots.txt and /sitemap.xml; no guessed URL.
        #expect(Set(server.requestedPaths()) == ["/feed.xml", "/robots.txt", "/sitemap.xml"])
        let status = try status()
        #expect(status.windowOverflows == 1)
        #expect(status.backfilledStories == 0)
        #expect(status.lastBackfill?.contains("nothing recovered") == true)
    }

    @Test func backfillSwitchedOffLeavesOnlyTheOverflow() async throws {
        try serve("feed.xml", rssFeed(1...10))
        var off = BackfillSettings()
        off.enabled = false
        let config = configuration(backfill: off)
        _ = try await pass(config, at: published(10).addingTimeInterval(300))
        try serve("feed.xml", rssFeed(51...60, prevArchive: server.url("archive/5.xml")))
        let second = try await pass(config, at: published(60).addingTimeInterval(300))
        #expect(second.reports.first?.windowOverflow == true)
        #expect(second.reports.first?.backfillScheduled == nil)
        #expect(second.backfills.isEmpty)
        #expect(Set(server.requestedPaths()) == ["/feed.xml"])
    }

    @Test func seedingAFeedReadsItsArchiveBackToTheWindowOnly() async throws {
        try serve("feed.xml", rssFeed(51...60, prevArchive: server.url("archive/5.xml")))
        for page in 1...5 {
            try serve("archive/\(page).xml", atomArchive((page * 10 - 9)...(page * 10), prevArchive: page > 1 ? server.url("archive/\(page - 1).xml") : nil))
        }
        // Two hours back from 5 minutes after story 60: stories 49 and later (ten minutes apart).
        let config = configuration(backfill: BackfillSettings(seed: true, windowHours: 2))
        let first = try await pass(config, at: published(60).addingTimeInterval(300))
        #expect(first.reports.first?.backfillScheduled == .seed)
        #expect(first.reports.first?.windowOverflow == false)
        #expect(first.backfills.first?.storedViaArchive == 2)
        #expect(try storedStories() == Array(49...60))
        // The first archive document already reaches before the window: the walk ends there.
        #expect(server.requestedPaths().filter { $0.hasPrefix("/archive/") } == ["/archive/5.xml"])
        #expect(first.backfills.first?.result?.contains("to seed the feed") == true)
    }

    @Test func aRetryAfterDuringABackfillHoldsTheHostAndPausesIt() async throws {
        try serve("feed.xml", rssFeed(1...10))
        let config = configuration(fullText: .auto)
        _ = try await pass(config, at: published(10).addingTimeInterval(300))
        try serve("feed.xml", rssFeed(51...60))
        try serve("robots.txt", "User-agent: *\nSitemap: \(server.url("retry/503/3600"))\n")
        let second = try await pass(config, at: published(60).addingTimeInterval(300))
        let backfill = try #require(second.backfills.first)
        #expect(backfill.result == nil)
        #expect(backfill.paused?.contains("asked to wait") == true, "\(backfill.paused ?? "")")
        let paths = server.requestedPaths()
        // Nothing after the 503: not /sitemap.xml, no page.
        #expect(paths.last == "/retry/503/3600", "\(paths)")
        let state = try StateStore.openReadOnly(path: workspace.appendingPathComponent("state.sqlite").path)
        #expect(try state.hostHolds(now: clock.now).count == 1)
        #expect(try status().backfillPending)
    }
}

/// A clock the test moves.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Date

    init(_ start: Date) { value = start }

    var now: Date {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
