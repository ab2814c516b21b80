import Dedupe
import FeedModel
import Foundation
import Pipeline
import Testing

@Suite struct StoryBuilderTests {
    @Test func contentIsPreferredOverTheSummary() {
        let entry = FeedEntry(title: "Head", summary: "<p>Teaser…</p>", content: "<p>Full one.</p><p>Full two.</p>")
        #expect(StoryBuilder.story(from: entry) == StoryText(headline: "Head", paragraphs: ["Full one.", "Full two."]))
    }

    @Test func summaryIsUsedWhenThereIsNoContent() {
        let entry = FeedEntry(title: "Head", summary: "Plain line one\nPlain line two", summaryIsPlainText: true)
        #expect(StoryBuilder.story(from: entry).paragraphs == ["Plain line one", "Plain line two"])
    }

    @Test func markupScriptsAndEntitiesNeverReachTheText() {
        let entry = FeedEntry(title: "Head", content: """
            <div><p>Caf&eacute; &amp; bar&nbsp;now<br>second line</p><script>alert(1)</script>
            <figure><img src="x.jpg"><figcaption>Photo: Agency</figcaption></figure>
            <ul><li>Item <b>one</b></li><li>Item two</li></ul></div>
            """)
        #expect(StoryBuilder.story(from: entry).paragraphs == ["Café & bar now", "second line", "Item one", "Item two"])
    }

    @Test func repeatedHeadlineAndReadMoreAreDropped() {
        let entry = FeedEntry(title: "Big News Today", content: """
            <h1>Big news today</h1><p>The story.</p><p><a href="/x">Read more</a></p>
            <p>The post Big News Today appeared first on Example Daily.</p>
            """)
        #expect(StoryBuilder.story(from: entry).paragraphs == ["The story."])
    }

    @Test func entryIdentityPrefersIdThenCanonicalLink() {
        let canonicalizer = URLCanonicalizer()
        #expect(EntryIdentity.key(for: FeedEntry(id: " guid-1 ", link: "https://a.example/x"), canonicalizer: canonicalizer) == "id:guid-1")
        #expect(EntryIdentity.key(for: FeedEntry(link: "https://A.example/x?utm_source=rss#top"), canonicalizer: canonicalizer) == "url:https://a.example/x")
        let a = EntryIdentity.key(for: FeedEntry(title: "T", summary: "S"), canonicalizer: canonicalizer)
        let b = EntryIdentity.key(for: FeedEntry(title: "T", summary: "other"), canonicalizer: canonicalizer)
        #expect(a.hasPrefix("hash:") && a != b)
    }
}
