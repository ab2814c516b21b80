import FeedConfig
import Testing

@Suite struct OPMLTests {
    @Test func readsNestedOutlinesWithCategories() throws {
        let subscriptions = try OPML.parse(Array("""
            <?xml version="1.0"?>
            <opml version="1.0"><head><title>Subs</title></head><body>
              <outline text="News">
                <outline text="World &amp; Europe" title="World" type="rss" xmlUrl="https://a.example/rss" htmlUrl="https://a.example/"/>
                <outline text="Deeper"><outline text="Deep" xmlUrl="https://b.example/atom"/></outline>
              </outline>
              <outline text="Tagged" xmlUrl="https://c.example/feed" category="tech"/>
              <outline text="No feed here"/>
            </body></opml>
            """.utf8))
        #expect(subscriptions == [
            OPMLSubscription(xmlURL: "https://a.example/rss", htmlURL: "https://a.example/", title: "World", category: "News"),
            OPMLSubscription(xmlURL: "https://b.example/atom", title: "Deep", category: "News/Deeper"),
            OPMLSubscription(xmlURL: "https://c.example/feed", title: "Tagged", category: "tech"),
        ])
    }

    @Test func exportReadsBack() throws {
        let original = [OPMLSubscription(xmlURL: "https://a.example/rss?x=1&y=2", title: "A \"quoted\" <feed>", category: "news")]
        #expect(try OPML.parse(Array(OPML.render(original, title: "t").utf8)) == original)
    }

    @Test func notOPMLIsAnError() {
        #expect(throws: OPMLError.self) { try OPML.parse(Array("<rss/>".utf8)) }
    }
}
