import DatesAndCharsets
import FeedModel
import FeedParser
import Foundation
import Testing

@Suite struct SitemapParserTests {
    @Test func aNewsSitemapGivesEachPageWithItsDatesAndTitle() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
                    xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
              <url><loc>https://news.example/2024/11/04/bridge</loc><lastmod>2024-11-04T13:00:00Z</lastmod>
                <image:image><image:loc>https://news.example/i.jpg</image:loc><image:title>A photo</image:title></image:image>
                <news:news><news:publication><news:name>Example</news:name><news:language>en</news:language></news:publication>
                  <news:publication_date>2024-11-04T12:00:00+01:00</news:publication_date><news:title>Council &amp; bridge</news:title></news:news></url>
              <url><loc> /relative/page </loc><lastmod>2024-11-03</lastmod></url>
              <url><lastmod>2024-11-03</lastmod></url>
            </urlset>
            """
        let document = try SitemapParser.parse(Array(xml.utf8), url: "https://news.example/sitemap.xml")
        #expect(document.kind == .urlset)
        #expect(document.entries.count == 2)  // The entry without a <loc> is skipped.
        let first = try #require(document.entries.first)
        #expect(first.url == "https://news.example/2024/11/04/bridge")
        #expect(first.published == FeedDate.parse("2024-11-04T11:00:00Z"))
        #expect(first.lastModified == FeedDate.parse("2024-11-04T13:00:00Z"))
        #expect(first.title == "Council & bridge")  // The image's title is not the page's.
        #expect(first.date == first.published)
        #expect(document.entries[1].url == "https://news.example/relative/page")
        #expect(document.entries[1].date == FeedDate.parse("2024-11-03"))
    }

    @Test func anIndexListsItsSitemaps() throws {
        let xml = """
            <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <sitemap><loc>https://news.example/news.xml.gz</loc><lastmod>2024-11-04</lastmod></sitemap>
              <sitemap><loc>https://news.example/2019.xml</loc></sitemap>
            </sitemapindex>
            """
        let document = try SitemapParser.parse(Array(xml.utf8), url: nil)
        #expect(document.kind == .index)
        #expect(document.entries.map(\.url) == ["https://news.example/news.xml.gz", "https://news.example/2019.xml"])
        #expect(document.entries[1].lastModified == nil)
    }

    @Test func aFeedOrAPageIsNoSitemapAndTheLimitCounts() throws {
        #expect(throws: SitemapError.notASitemap(rootElement: "rss")) {
            try SitemapParser.parse(Array("<rss version=\"2.0\"><channel/></rss>".utf8), url: nil)
        }
        let many = "<urlset>" + (1...10).map { "<url><loc>https://a.example/\($0)</loc></url>" }.joined() + "</urlset>"
        let document = try SitemapParser.parse(Array(many.utf8), url: nil, maxEntries: 4)
        #expect(document.entries.count == 4)
        #expect(document.entriesOmitted == 6)
    }
}

@Suite struct PagingLinkTests {
    @Test func atomArchivesAndPagesLinkToOlderEntries() throws {
        let archived = try parse("""
            <feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
            <link rel="self" href="/feed.atom"/><link rel="next-archive" href="/archive/9"/>
            <link rel="prev-archive" href="/archive/7"/><link rel="next" href="/page/2"/></feed>
            """)
        #expect(archived.previousArchive == "https://news.example/archive/7")
        #expect(archived.nextPage == "https://news.example/page/2")
        #expect(archived.olderEntriesURL == "https://news.example/archive/7")  // The archive first.
        let paged = try parse("""
            <feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><link rel="previous" href="/page/0"/>
            <link rel="next" href="https://news.example/page/2"/></feed>
            """)
        #expect(paged.olderEntriesURL == "https://news.example/page/2")
    }

    @Test func rssChannelsCarryAtomPagingLinksAndJSONFeedsNextURL() throws {
        let rss = try parse("""
            <rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>t</title>
            <atom:link rel="self" href="https://news.example/feed.xml"/><atom:link rel="next" href="?paged=2"/>
            <item><title>a</title><atom:link rel="next" href="/not-the-channel"/></item></channel></rss>
            """)
        #expect(rss.nextPage == "https://news.example/feed.xml?paged=2")
        #expect(rss.previousArchive == nil)
        let json = try FeedParser.parse(Array("""
            {"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [], "next_url": "/feed.json?page=2"}
            """.utf8), url: "https://news.example/feed.json")
        #expect(json.nextPage == "https://news.example/feed.json?page=2")
        let plain = try parse("<rss version=\"2.0\"><channel><title>t</title></channel></rss>")
        #expect(plain.olderEntriesURL == nil)
    }
}
