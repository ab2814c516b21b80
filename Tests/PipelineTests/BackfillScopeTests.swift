@testable import Pipeline
import StateStore
import Testing

@Suite struct BackfillScopeTests {
    @Test func theFeedsSectionIsTheSharedPathUpToTheDate() throws {
        let scope = try #require(BackfillScope.of(links: [
            "https://news.example/sport/2024/11/04/match", "https://news.example/sport/2024/11/05/final",
            "https://www.other.example/sport/x",
        ]))
        #expect(scope.origin == "https://news.example")
        #expect(scope.pathPrefix == "/sport/")
        #expect(scope.contains("https://news.example/sport/2024/11/03/earlier"))
        #expect(scope.contains("http://news.example/sport/a"))  // http and https are one site
        #expect(!scope.contains("https://news.example/politics/2024/11/03/vote"))
        #expect(!scope.contains("https://www.other.example/sport/x"))
    }

    @Test func linksWithoutASharedSectionTakeTheWholeSite() throws {
        #expect(BackfillScope.of(links: ["https://a.example/2024/11/04/x", "https://a.example/2024/11/05/y"])?.pathPrefix == "/")
        #expect(BackfillScope.of(links: ["https://a.example/news/x", "https://a.example/world/y"])?.pathPrefix == "/")
        #expect(BackfillScope.of(links: ["https://a.example/news/x"])?.pathPrefix == "/")  // one link says nothing
        #expect(BackfillScope.of(links: ["file:///srv/x.html", "mailto:a@b"]) == nil)
    }

    @Test func theResultLineSaysWhatWasFoundAndWhere() {
        var job = BackfillJob(reason: .overflow, createdAt: .distantPast, gapStart: .distantPast, gapEnd: .distantPast,
                              nextArchivePage: nil, siteOrigin: "https://a.example", pathPrefix: "/")
        job.sitemapsListed = true
        let nothing = IngestPass.resultLine(job)
        #expect(nothing.contains("nothing recovered after a window overflow"))
        #expect(nothing.contains("no archive link in the feed"))
        #expect(nothing.contains("no sitemap at https://a.example"))
        job.sitemapFound = true
        job.storedViaSitemap = 3
        job.urlsUsed = 4
        job.note("sitemap URL: article page https://a.example/x: HTTP 500")
        let found = IngestPass.resultLine(job)
        #expect(found.contains("recovered 3 stories after a window overflow (0 via archive, 3 via sitemap"))
        #expect(found.contains("sitemaps read, 4 of their pages fetched"))
        #expect(found.hasSuffix("HTTP 500"))
    }
}
