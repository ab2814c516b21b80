import DatesAndCharsets
import FeedModel
import FeedParser
import Foundation
import Testing

func parse(_ xml: String, url: String? = "https://news.example/feed.xml") throws -> ParsedFeed {
    try FeedParser.parse(Array(xml.utf8), url: url)
}

func date(_ iso: String) -> Date? {
    FeedDate.parse(iso)
}

@Suite struct RSSTests {
    let rss = """
        <?xml version="1.0" encoding="UTF-8"?>
        <rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
        <channel>
          <title>Example &amp; Co News</title>
          <link>https://news.example/</link>
          <description>All the news</description>
          <language>en-us</language>
          <lastBuildDate>Tue, 05 Nov 2024 10:00:00 GMT</lastBuildDate>
          <generator>Hand</generator>
          <image><url>/logo.png</url><title>Logo</title><link>https://news.example/</link></image>
          <item>
            <title>First &lt;b&gt;story&lt;/b&gt;</title>
            <link>https://news.example/first</link>
            <guid isPermaLink="false">abc-1</guid>
            <pubDate>Mon, 04 Nov 2024 12:30:00 +0100</pubDate>
            <dc:creator>Jane Doe</dc:creator>
            <category>World</category>
            <category>Europe</category>
            <description>Teaser only&#8230;</description>
            <content:encoded><![CDATA[<p>Para one &amp; more.</p><p>Para <em>two</em>.</p>]]></content:encoded>
            <enclosure url="https://news.example/a.mp3" type="audio/mpeg" length="1234"/>
          </item>
          <item>
            <title>Second</title>
            <guid>https://news.example/second</guid>
            <description>&lt;p&gt;Escaped&amp;nbsp;HTML&lt;/p&gt;</description>
          </item>
        </channel>
        </rss>
        """

    @Test func readsChannelFields() throws {
        let feed = try parse(rss)
        #expect(feed.format == .rss20)
        #expect(feed.bozo == false)
        #expect(feed.title == "Example & Co News")
        #expect(feed.link == "https://news.example/")
        #expect(feed.subtitle == "All the news")
        #expect(feed.language == "en-us")
        #expect(feed.generator == "Hand")
        #expect(feed.image == "https://news.example/logo.png")
        #expect(feed.updated == date("2024-11-05T10:00:00Z"))
    }

    @Test func readsItemFields() throws {
        let feed = try parse(rss)
        #expect(feed.entries.count == 2)
        let first = feed.entries[0]
        #expect(first.id == "abc-1")
        #expect(first.title == "First story")  // titles are plain text
        #expect(first.link == "https://news.example/first")
        #expect(first.published == date("2024-11-04T11:30:00Z"))
        #expect(first.author == "Jane Doe")
        #expect(first.categories == ["World", "Europe"])
        #expect(first.summary == "Teaser only\u{2026}")
        #expect(first.content == "<p>Para one &amp; more.</p><p>Para <em>two</em>.</p>")
        #expect(first.enclosures == [FeedEnclosure(url: "https://news.example/a.mp3", type: "audio/mpeg", length: "1234")])
    }

    @Test func permalinkGuidBecomesTheLink() throws {
        let second = try parse(rss).entries[1]
        #expect(second.id == "https://news.example/second")
        #expect(second.link == "https://news.example/second")
        #expect(second.summary == "<p>Escaped&nbsp;HTML</p>")
    }

    @Test func versionAttributePicksTheFormat() throws {
        #expect(try parse(#"<rss version="0.91"><channel><title>x</title></channel></rss>"#).format == .rss091u)
        #expect(try parse(#"<rss version="0.92"><channel><title>x</title></channel></rss>"#).format == .rss092)
    }

    @Test func readsRSS10RDF() throws {
        let feed = try parse("""
            <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
                     xmlns:dc="http://purl.org/dc/elements/1.1/">
              <channel rdf:about="https://news.example/"><title>RDF news</title><link>https://news.example/</link>
                <dc:language>de</dc:language></channel>
              <item rdf:about="https://news.example/rdf-1"><title>RDF item</title><link>https://news.example/rdf-1</link>
                <description>Body</description><dc:date>2024-11-04T08:00:00+01:00</dc:date></item>
            </rdf:RDF>
            """)
        #expect(feed.format == .rss10)
        #expect(feed.title == "RDF news")
        #expect(feed.language == "de")
        #expect(feed.entries.first?.id == "https://news.example/rdf-1")
        #expect(feed.entries.first?.published == date("2024-11-04T07:00:00Z"))
    }

    @Test func htmlNamedEntitiesInXMLAreDecoded() throws {
        let feed = try parse("""
            <rss version="2.0"><channel><title>Caf&eacute; &mdash; news&nbsp;</title>
            <item><title>Na&iuml;ve &amp; caf&eacute;</title><description>x</description></item></channel></rss>
            """)
        #expect(feed.title == "Café — news\u{A0}")  // a no-break space is text, as in feedparser
        #expect(feed.entries.first?.title == "Naïve & café")
        #expect(feed.bozo == false)  // HTML entities are read as if declared
    }

    @Test func malformedDocumentIsRecoveredAndFlagged() throws {
        let feed = try parse("""
            <rss version="2.0"><channel><title>Broken</title>
            <item><title>Kept one</title><link>https://news.example/1</link><description>Fish & chips</description></item>
            <item><title>Kept two</title><description><b>unclosed</description></item>
            </channel></rss>
            """)
        #expect(feed.bozo)
        #expect(feed.bozoReason?.contains("line") == true)
        #expect(feed.entries.map(\.title).first == "Kept one")
        #expect(feed.entries.count >= 1)
    }

    @Test func truncatedDocumentKeepsCompleteItems() throws {
        let feed = try parse("""
            <rss version="2.0"><channel><title>Cut</title>
            <item><title>Complete</title><description>All here</description></item>
            <item><title>Cut off</title><descrip
            """)
        #expect(feed.bozo)
        #expect(feed.entries.first?.title == "Complete")
    }

    @Test func relativeLinksResolveAgainstTheDocumentURL() throws {
        let feed = try parse("""
            <rss version="2.0"><channel><title>t</title>
            <item><title>a</title><link>/2024/story</link></item></channel></rss>
            """, url: "https://news.example/feeds/all.xml")
        #expect(feed.entries.first?.link == "https://news.example/2024/story")
    }
}

@Suite struct AtomTests {
    @Test func readsAtom10() throws {
        let feed = try parse("""
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr" xml:base="https://atom.example/blog/">
              <title type="text">Atom news</title>
              <subtitle type="html">&lt;i&gt;Sub&lt;/i&gt;title</subtitle>
              <link rel="alternate" href="https://atom.example/"/>
              <link rel="self" href="https://atom.example/feed"/>
              <id>urn:uuid:feed</id>
              <updated>2024-11-04T12:00:00Z</updated>
              <author><name>Desk</name><email>desk@atom.example</email></author>
              <generator>Gen</generator>
              <entry>
                <title type="html">A &amp;amp; B &lt;em&gt;title&lt;/em&gt;</title>
                <link href="posts/1"/>
                <link rel="enclosure" href="/audio.mp3" type="audio/mpeg" length="99"/>
                <id>urn:uuid:1</id>
                <published>2024-11-04T10:00:00+02:00</published>
                <updated>2024-11-04T11:00:00Z</updated>
                <author><name>Ann</name></author>
                <category term="politics"/>
                <summary>Plain &lt;summary&gt;</summary>
                <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>One &amp; <b>two</b></p><p>Three</p></div></content>
              </entry>
            </feed>
            """)
        #expect(feed.format == .atom10)
        #expect(feed.title == "Atom news")
        // The subtitle is markup as delivered, like a summary (`parse` resolves its links).
        #expect(feed.subtitle == "<i>Sub</i>title" && !feed.subtitleIsPlainText)
        #expect(feed.link == "https://atom.example/")
        #expect(feed.id == "urn:uuid:feed")
        #expect(feed.language == "fr")
        #expect(feed.author == "Desk (desk@atom.example)")
        #expect(feed.updated == date("2024-11-04T12:00:00Z"))
        let entry = try #require(feed.entries.first)
        #expect(entry.title == "A & B title")
        #expect(entry.link == "https://atom.example/blog/posts/1")
        #expect(entry.enclosures.first?.url == "https://atom.example/audio.mp3")
        #expect(entry.id == "urn:uuid:1")
        #expect(entry.published == date("2024-11-04T08:00:00Z"))
        #expect(entry.updated == date("2024-11-04T11:00:00Z"))
        #expect(entry.author == "Ann")
        #expect(entry.categories == ["politics"])
        #expect(entry.summary == "Plain <summary>")
        #expect(entry.summaryIsPlainText)
        #expect(entry.content == "<p>One &amp; <b>two</b></p><p>Three</p>")  // wrapper div dropped
    }

    @Test func atom03InlineXMLKeepsItsDivAndAtom10XHTMLDropsTheWrapper() throws {
        let old = try parse("""
            <feed version="0.3" xmlns="http://purl.org/atom/ns#">
              <tagline type="application/xhtml+xml" mode="xml"><div xmlns="http://www.w3.org/1999/xhtml">Example <b>Atom</b></div></tagline>
              <entry><title>E</title><id>tag:e</id>
                <summary type="application/xhtml+xml" mode="xml"><div xmlns="http://www.w3.org/1999/xhtml">Example <b>Atom</b></div></summary></entry>
            </feed>
            """)
        #expect(old.subtitle == "<div>Example <b>Atom</b></div>")
        #expect(old.entries.first?.summary == "<div>Example <b>Atom</b></div>")
        let new = try parse("""
            <feed xmlns="http://www.w3.org/2005/Atom">
              <subtitle type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Example <b>Atom</b></div></subtitle>
              <entry><title>E</title><id>tag:e</id>
                <summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Example <b>Atom</b></div></summary></entry>
            </feed>
            """)
        #expect(new.subtitle == "Example <b>Atom</b>")
        #expect(new.entries.first?.summary == "Example <b>Atom</b>")
    }

    @Test func readsAtom03() throws {
        let feed = try parse("""
            <feed version="0.3" xmlns="http://purl.org/atom/ns#">
              <title>Old atom</title><tagline>Tag</tagline><modified>2004-01-01T00:00:00Z</modified>
              <entry><title>E</title><id>tag:e</id><issued>2004-01-01T00:00:00Z</issued>
                <content type="text/html" mode="escaped">&lt;p&gt;Hello&lt;/p&gt;</content></entry>
            </feed>
            """)
        #expect(feed.format == .atom03)
        #expect(feed.subtitle == "Tag")
        #expect(feed.entries.first?.content == "<p>Hello</p>")
        #expect(feed.entries.first?.published == date("2004-01-01T00:00:00Z"))
    }
}

@Suite struct DocumentErrorTests {
    @Test func htmlPageIsNotAFeed() {
        #expect(throws: FeedParseError.notAFeed(rootElement: "html")) {
            try parse("<html><head><title>Home</title></head><body>hi</body></html>")
        }
    }

    @Test func emptyDocumentIsAnError() {
        #expect(throws: FeedParseError.emptyDocument) { try parse("  \n ") }
    }

    @Test func billionLaughsIsRefusedWithoutExpansion() {
        let attack = """
            <?xml version="1.0"?>
            <!DOCTYPE rss [
              <!ENTITY lol "lol">
              <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
              <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
              <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
            ]>
            <rss version="2.0"><channel><title>&lol9;</title></channel></rss>
            """
        do {
            _ = try parse(attack)
            Issue.record("expected the document to be refused")
        } catch let error as FeedParseError {
            guard case let .refused(reason) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(reason.contains("entity"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func externalEntityIsNeverRead() throws {
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("feedcorpus-xxe-\(UUID().uuidString)")
        try Data("TOP-SECRET".utf8).write(to: secret)
        defer { try? FileManager.default.removeItem(at: secret) }
        let attack = """
            <?xml version="1.0"?>
            <!DOCTYPE rss [<!ENTITY xxe SYSTEM "\(secret.absoluteString)">]>
            <rss version="2.0"><channel><title>x&xxe;</title><item><title>&xxe;</title></item></channel></rss>
            """
        // Either refused outright or parsed without the file's content: never the secret.
        if let feed = try? parse(attack) {
            #expect(feed.title?.contains("TOP-SECRET") != true)
            #expect(feed.entries.first?.title?.contains("TOP-SECRET") != true)
        }
    }
}

