import Fetcher
import Testing

@Suite struct RobotsTxtTests {
    let text = """
        # comments and unknown lines are ignored
        User-agent: *
        Disallow: /private/
        Disallow: /*.pdf$
        Allow: /private/press/

        User-agent: FeedCorpus
        User-agent: otherbot
        Disallow: /archive
        Allow: /archive/today
        Crawl-delay: 10

        Sitemap: https://news.example/sitemap.xml
        """

    @Test func theMostSpecificAgentGroupApplies() {
        let ours = RobotsTxt(parsing: text, productToken: "feedcorpus")
        #expect(!ours.allows("https://news.example/archive/2019/story"))
        #expect(ours.allows("https://news.example/archive/today/story"))
        // Our group replaces the * group entirely.
        #expect(ours.allows("https://news.example/private/x"))
    }

    @Test func theWildcardGroupAppliesToOthersWithLongestMatchAndAnchors() {
        let other = RobotsTxt(parsing: text, productToken: "somebot")
        #expect(!other.allows("https://news.example/private/x"))
        #expect(other.allows("https://news.example/private/press/release"))
        #expect(!other.allows("https://news.example/files/report.pdf"))
        #expect(other.allows("https://news.example/files/report.pdf?download=1"))
        #expect(other.allows("https://news.example/"))
    }

    @Test func emptyDisallowAndNoRulesAllowEverything() {
        #expect(RobotsTxt(parsing: "User-agent: *\nDisallow:\n", productToken: "feedcorpus").allows("https://a.example/x"))
        #expect(RobotsTxt(parsing: "", productToken: "feedcorpus").allows("https://a.example/x"))
        #expect(!RobotsTxt.disallowAll.allows("https://a.example/"))
        #expect(RobotsTxt.allowAll.allows("https://a.example/anything"))
    }
}

@Suite struct RobotsSitemapTests {
    @Test func sitemapLinesAreKeptWithoutEndingAGroup() {
        let robots = RobotsTxt(parsing: """
            User-agent: feedcorpus
            Sitemap: https://news.example/news-sitemap.xml
            User-agent: other
            Disallow: /private/
            sitemap: https://news.example/sitemap_index.xml
            Sitemap: https://news.example/news-sitemap.xml
            """, productToken: "feedcorpus")
        #expect(robots.sitemaps == ["https://news.example/news-sitemap.xml", "https://news.example/sitemap_index.xml"])
        // The Sitemap line between the two User-agent lines did not split the group.
        #expect(!robots.allows("https://news.example/private/a"))
    }
}
