import DatesAndCharsets
import FeedModel
@testable import FeedParser
import Foundation
import TestSupport
import Testing

/// One small document per real-world defect or format feature, modelled on what publishers serve.

func parseBytes(_ bytes: [UInt8], contentType: String? = nil) throws -> ParsedFeed {
    try FeedParser.parse(bytes, url: "https://news.example/feed", contentType: contentType)
}

func latin1(_ text: String) -> [UInt8] {
    text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
}

@Suite struct FormatDetectionTests {
    @Test(arguments: [
        (#"<rss version="2.0"><channel/></rss>"#, FeedFormat.rss20),
        (#"<rss version="0.91"><channel/></rss>"#, .rss091u),
        (#"<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel/></rss>"#, .rss091n),
        (#"<?xml version="1.0"?><!-- x --><!DOCTYPE rss SYSTEM "rss-0.91.dtd"><rss version="0.91"><channel/></rss>"#, .rss091u),
        (#"<rss version="2.01"><channel/></rss>"#, .rss20),
        (#"<rss version="3.0"><channel/></rss>"#, .rss),
        (#"<rss version="0.92"><channel/></rss>"#, .rss092),
        (#"<rss version="0.93"><channel/></rss>"#, .rss093),
        (#"<rss version="0.94"><channel/></rss>"#, .rss094),
        (#"<rss><channel/></rss>"#, .rss),
        (#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel/></rdf:RDF>"#, .rss10),
        (#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/"><channel><title>x</title></channel></rdf:RDF>"#, .rss090),
        (#"<feed xmlns="http://www.w3.org/2005/Atom"/>"#, .atom10),
        (#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"/>"#, .atom03),
    ])
    func detectsTheFormatFromTheRoot(document: String, format: FeedFormat) throws {
        #expect(try parse(document).format == format)
    }
}

@Suite struct JSONFeedTests {
    /// Broken JSON is said to be broken JSON, not "not XML".
    @Test func brokenJSONIsNamedAsSuch() {
        #expect(throws: FeedParseError.self) { _ = try parseBytes(Array("{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": [".utf8)) }
        do {
            _ = try FeedParser.parse(Array("{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": [".utf8), url: "https://news.example/feed")
        } catch {
            guard case .invalidJSON = error else {
                Issue.record("expected invalidJSON, got \(error)")
                return
            }
            #expect(error.description.contains("is not valid JSON"))
            #expect(!error.description.contains("not XML"))
        }
    }

    @Test func readsJSONFeed11() throws {
        let feed = try parseBytes(Array("""
            {"version": "https://jsonfeed.org/version/1.1", "title": "JSON news", "home_page_url": "https://json.example/",
             "feed_url": "https://json.example/feed.json", "description": "All JSON", "language": "en",
             "icon": "/icon.png", "authors": [{"name": "Desk"}],
             "items": [
               {"id": "1", "url": "https://json.example/1", "title": "First", "content_html": "<p>Hello</p>",
                "summary": "Hi", "date_published": "2024-11-04T12:00:00Z", "date_modified": "2024-11-05T12:00:00+01:00",
                "tags": ["a", "b"], "attachments": [{"url": "https://json.example/a.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 123}]},
               {"id": 2, "title": "Second", "content_text": "Plain text"}
             ]}
            """.utf8))
        #expect(feed.format == .jsonfeed)
        #expect(feed.title == "JSON news")
        #expect(feed.link == "https://json.example/")
        #expect(feed.image == "https://news.example/icon.png")
        #expect(feed.author == "Desk")
        let first = try #require(feed.entries.first)
        #expect(first.id == "1")
        #expect(first.content == "<p>Hello</p>")
        #expect(first.published == FeedDate.parse("2024-11-04T12:00:00Z"))
        #expect(first.updated == FeedDate.parse("2024-11-05T11:00:00Z"))
        #expect(first.categories == ["a", "b"])
        #expect(first.enclosures == [FeedEnclosure(url: "https://json.example/a.mp3", type: "audio/mpeg", length: "123")])
        #expect(feed.entries[1].id == "2")
        #expect(feed.entries[1].contentIsPlainText)
    }

    @Test func jsonThatIsNotAFeedIsRejected() {
        #expect(throws: FeedParseError.self) { try parseBytes(Array(#"{"hello": "world"}"#.utf8)) }
        #expect(throws: FeedParseError.self) { try parseBytes(Array(#"{"version": "#.utf8)) }
    }
}

@Suite struct TextConstructTests {
    @Test func cdataAndEscapedHTMLGiveTheSameMarkup() throws {
        let escaped = try parse(#"<rss version="2.0"><channel><item><description>&lt;p&gt;A &amp;amp; B&lt;/p&gt;</description></item></channel></rss>"#)
        let cdata = try parse(#"<rss version="2.0"><channel><item><description><![CDATA[<p>A &amp; B</p>]]></description></item></channel></rss>"#)
        #expect(escaped.entries.first?.summary == "<p>A &amp; B</p>")
        #expect(cdata.entries.first?.summary == "<p>A &amp; B</p>")
    }

    @Test func unescapedHTMLInsideDescriptionIsKeptAsMarkup() throws {
        let feed = try parse(#"<rss version="2.0"><channel><item><description><p>Raw <b>markup</b><br/>here &amp; there</p></description></item></channel></rss>"#)
        #expect(feed.entries.first?.summary == "<p>Raw <b>markup</b><br />here &amp; there</p>")
    }

    @Test func doubleEscapedMarkupIsDecodedOnceOnly() throws {
        let feed = try parse(#"<rss version="2.0"><channel><item><description>&amp;lt;p&amp;gt;x&amp;lt;/p&amp;gt;</description></item></channel></rss>"#)
        #expect(feed.entries.first?.summary == "&lt;p&gt;x&lt;/p&gt;")
    }

    @Test func atomTextTypeIsPlainAndHTMLTypeIsMarkup() throws {
        let feed = try parse("""
            <feed xmlns="http://www.w3.org/2005/Atom"><entry>
              <title type="text">1 &lt; 2 &amp; 3</title>
              <summary type="text">a &lt;b&gt; c</summary>
              <content type="html">&lt;p&gt;para&lt;/p&gt;</content>
            </entry></feed>
            """)
        let entry = try #require(feed.entries.first)
        #expect(entry.title == "1 < 2 & 3")
        #expect(entry.summary == "a <b> c")
        #expect(entry.summaryIsPlainText)
        #expect(entry.content == "<p>para</p>")
        #expect(!entry.contentIsPlainText)
    }

    @Test func atomBase64ContentIsDecoded() throws {
        let feed = try parse(#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry><content type="text/html" mode="base64">PHA+SGk8L3A+</content></entry></feed>"#)
        #expect(feed.entries.first?.content == "<p>Hi</p>")
    }

    @Test func titlesArePlainTextEvenWithMarkup() throws {
        let feed = try parse(#"<rss version="2.0"><channel><item><title>&lt;b&gt;Bold&lt;/b&gt; &amp;amp; &lt;i&gt;italic&lt;/i&gt;</title></item></channel></rss>"#)
        #expect(feed.entries.first?.title == "Bold & italic")
    }

    @Test func characterReferencesInWindows1252RangeAreRepaired() throws {
        let feed = try parse(#"<rss version="2.0"><channel><item><title>don&#146;t &#150; stop</title></item></channel></rss>"#)
        #expect(feed.entries.first?.title == "don\u{2019}t \u{2013} stop")
        // Other scalars from U+0080 (same lead byte in UTF-8: £, no-break space) stay as they are.
        let mixed = try parse(#"<rss version="2.0"><channel><item><description>£5&#160;now, £6 don&#146;t £</description></item></channel></rss>"#)
        #expect(mixed.entries.first?.summary == "£5\u{A0}now, £6 don\u{2019}t £")
        let plain = try parse(#"<rss version="2.0"><channel><item><description>£5 and £6</description></item></channel></rss>"#)
        #expect(plain.entries.first?.summary == "£5 and £6")
    }

    @Test func declaredPlainEntitiesAreUsed() throws {
        let feed = try parse("""
            <!DOCTYPE rss [<!ENTITY prefix "tag:example.com,">]>
            <rss version="2.0"><channel><item><guid isPermaLink="false">&prefix;2024:/1</guid></item></channel></rss>
            """)
        #expect(feed.entries.first?.id == "tag:example.com,2024:/1")
        #expect(!feed.bozo)
    }

    @Test func unknownEntityStaysAsWritten() throws {
        #expect(try parse(#"<rss version="2.0"><channel><title>a &bogus; b</title></channel></rss>"#).title == "a &bogus; b")
    }

    @Test func entitiesInAttributesAreDecoded() throws {
        let feed = try parse(#"<feed xmlns="http://www.w3.org/2005/Atom"><link rel="alternate" href="https://a.example/?a=1&amp;b=2&#38;c=3"/></feed>"#)
        #expect(feed.link == "https://a.example/?a=1&b=2&c=3")
    }
}

@Suite struct FieldTests {
    @Test func authorsInTheirManyForms() throws {
        let feed = try parse("""
            <rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
              <item><author>jane@example.com (Jane Doe)</author></item>
              <item><author>jane@example.com</author></item>
              <item><dc:creator>Jane Doe</dc:creator></item>
            </channel></rss>
            """)
        #expect(feed.entries.map(\.author) == ["jane@example.com (Jane Doe)", "jane@example.com", "Jane Doe"])
        let atom = try parse("""
            <feed xmlns="http://www.w3.org/2005/Atom"><entry><author><name>Ann</name><email>ann@example.com</email></author></entry>
            <entry><author><email>only@example.com</email></author></entry></feed>
            """)
        #expect(atom.entries.map(\.author) == ["Ann (ann@example.com)", "only@example.com"])
    }

    @Test func contentEncodedIsPreferredAndDescriptionIsTheSummary() throws {
        let feed = try parse(#"<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><item><description>short</description><content:encoded>long</content:encoded></item></channel></rss>"#)
        #expect(feed.entries.first?.summary == "short")
        #expect(feed.entries.first?.content == "long")
    }

    @Test func guidWithIsPermaLinkFalseIsNotALink() throws {
        let feed = try parse(#"<rss version="2.0"><channel><item><guid isPermaLink="false">https://a.example/not-a-link</guid></item></channel></rss>"#)
        #expect(feed.entries.first?.id == "https://a.example/not-a-link")
        #expect(feed.entries.first?.link == nil)
    }

    @Test func atomLinkInsideRSSGivesTheLink() throws {
        let feed = try parse(#"<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><item><atom:link rel="alternate" href="https://a.example/x"/></item></channel></rss>"#)
        #expect(feed.entries.first?.link == "https://a.example/x")
    }

    @Test func schedulerHintsAreKept() throws {
        let feed = try parse("""
            <rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>
              <ttl>30</ttl><sy:updatePeriod>Hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>
              <skipHours><hour>0</hour><hour>1</hour><hour>24</hour></skipHours>
              <skipDays><day>Saturday</day><day>Sunday</day></skipDays>
            </channel></rss>
            """)
        #expect(feed.ttlMinutes == 30)
        #expect(feed.updatePeriod == "hourly")
        #expect(feed.updateFrequency == 2)
        #expect(feed.skipHours == [0, 1, 0])
        #expect(feed.skipDays == ["Saturday", "Sunday"])
    }

    @Test func xmlBaseNestsAndResolves() throws {
        let feed = try parse("""
            <feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://a.example/blog/">
              <entry xml:base="2024/"><link href="post.html"/></entry>
              <entry><link href="/root.html"/></entry>
            </feed>
            """)
        #expect(feed.entries.map(\.link) == ["https://a.example/blog/2024/post.html", "https://a.example/root.html"])
    }

    @Test func languageFromXMLLangWithUnderscore() throws {
        #expect(try parse(#"<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en_US"/>"#).language == "en-US")
    }
}

@Suite struct MalformedTests {
    @Test func bareAmpersandsAreKeptAsText() throws {
        let feed = try parse(#"<rss version="2.0"><channel><title>Fish & Chips</title><item><title>AT&T news</title><link>https://a.example/?a=1&b=2</link></item></channel></rss>"#)
        #expect(feed.title == "Fish & Chips")
        #expect(feed.entries.first?.title == "AT&T news")
        #expect(feed.entries.first?.link == "https://a.example/?a=1&b=2")
        #expect(feed.bozo)
        #expect(feed.bozoReason?.contains("bare '&'") == true)
    }

    @Test func aHexReferenceWithAnUpperCaseXIsReadAsHTMLReadsIt() throws {
        let feed = try parse(#"<rss version="2.0"><channel><title>T</title><item><title>&#X41;&#x42; &amp; &#67;</title></item></channel></rss>"#)
        #expect(feed.entries.first?.title == "AB & C")
        #expect(feed.bozo)
        #expect(feed.bozoReason?.contains("'&#X'") == true, "\(feed.bozoReason ?? "")")
    }

    @Test func junkBeforeTheRootIsSkipped() throws {
        let feed = try parse("\n\nWarning: something in /var/www/feed.php on line 3\n<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Kept</title></channel></rss>")
        #expect(feed.title == "Kept")
        #expect(feed.bozo)
        let whitespaceOnly = try parse("\n   \n<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Kept</title></channel></rss>")
        #expect(whitespaceOnly.title == "Kept")
        #expect(!whitespaceOnly.bozo)
    }

    @Test func undeclaredNamespacePrefixIsStillUnderstood() throws {
        let feed = try parse(#"<rss version="2.0"><channel><item><title>t</title><content:encoded><![CDATA[<p>body</p>]]></content:encoded><dc:creator>Ann</dc:creator></item></channel></rss>"#)
        #expect(feed.entries.first?.content == "<p>body</p>")
        #expect(feed.entries.first?.author == "Ann")
        #expect(feed.bozo)
    }

    @Test func misnestedTagsAreRecovered() throws {
        let feed = try parse(#"<rss version="2.0"><channel><item><title>One</title></item><item><title>Two</item></title></channel></rss>"#)
        #expect(feed.bozo)
        #expect(feed.entries.first?.title == "One")
    }

    @Test func bozoReasonNamesTheLine() throws {
        let feed = try parse("<rss version=\"2.0\">\n<channel>\n<title>x</title>\n<item><title>a</titel></item>\n</channel></rss>")
        #expect(feed.bozo)
        #expect(feed.bozoReason?.contains("line 4") == true)
    }
}

@Suite struct EncodingTests {
    let title = "Caf\u{E9} \u{2013} na\u{EF}ve"

    @Test func utf8BOMIsRemovedAndFollowed() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss version=\"2.0\"><channel><title>\(title)</title></channel></rss>".utf8)
        #expect(try parseBytes(bytes).title == title)
    }

    @Test func utf16WithBOM() throws {
        let text = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss version=\"2.0\"><channel><title>\(title)</title></channel></rss>"
        var le: [UInt8] = [0xFF, 0xFE]
        for unit in text.utf16 { le.append(UInt8(unit & 0xFF)); le.append(UInt8(unit >> 8)) }
        #expect(try parseBytes(le).title == title)
        var be: [UInt8] = [0xFE, 0xFF]
        for unit in text.utf16 { be.append(UInt8(unit >> 8)); be.append(UInt8(unit & 0xFF)) }
        #expect(try parseBytes(be).title == title)
    }

    @Test func declaredLatin1IsRead() throws {
        let bytes = latin1("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>Caf\u{E9} na\u{EF}ve</title></channel></rss>")
        let feed = try parseBytes(bytes)
        #expect(feed.title == "Caf\u{E9} na\u{EF}ve")
        #expect(!feed.bozo)
    }

    @Test func windows1252BytesDeclaredUTF8AreRepaired() throws {
        // 0x93/0x94 are Windows-1252 curly quotes; the document claims UTF-8.
        var bytes = Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>".utf8)
        bytes += [0x93] + Array("quoted".utf8) + [0x94, 0x20, 0xE9, 0x20] + Array("\u{2013} ok".utf8)
        bytes += Array("</title></channel></rss>".utf8)
        let feed = try parseBytes(bytes)
        #expect(feed.title == "\u{201C}quoted\u{201D} \u{E9} \u{2013} ok")
        #expect(feed.bozo)
    }

    @Test func utf8DeclaredLatin1IsReadAsUTF8() throws {
        let bytes = Array("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss version=\"2.0\"><channel><title>\(title)</title></channel></rss>".utf8)
        let feed = try parseBytes(bytes)
        #expect(feed.title == title)
        #expect(feed.bozo)
    }

    @Test func httpCharsetBeatsTheDeclaration() throws {
        let bytes = latin1("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Caf\u{E9}</title></channel></rss>")
        let feed = try parseBytes(bytes, contentType: "application/rss+xml; charset=ISO-8859-1")
        #expect(feed.title == "Caf\u{E9}")
    }

    @Test func otherEncodingsGoThroughIconv() throws {
        // "Привет" in KOI8-R.
        let koi8: [UInt8] = [0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4]
        let bytes = Array("<?xml version=\"1.0\" encoding=\"koi8-r\"?><rss version=\"2.0\"><channel><title>".utf8) + koi8 + Array("</title></channel></rss>".utf8)
        let feed = try parseBytes(bytes)
        #expect(feed.title == "Привет")
        #expect(!feed.bozo)
    }

    @Test(arguments: [
        ("macgreek", [UInt8]([176, 245, 220, 238, 225]), "Αθήνα"),
        ("x-mac-greek", [0x80], "Ä"),
        ("mac_turkish", [220, 219, 223], "İğş"),
    ])
    func macGreekAndTurkishWhichIconvLacksAreDecoded(label: String, title: [UInt8], expected: String) throws {
        let bytes = Array("<?xml version=\"1.0\" encoding=\"\(label)\"?><rss version=\"2.0\"><channel><title>".utf8)
            + title + Array("</title></channel></rss>".utf8)
        let feed = try parseBytes(bytes)
        #expect(feed.title == expected)
        #expect(!feed.bozo, "\(feed.bozoReason ?? "")")
        let served = try parseBytes(Array("<rss version=\"2.0\"><channel><title>".utf8) + title + Array("</title></channel></rss>".utf8),
                                    contentType: "application/rss+xml; charset=\(label)")
        #expect(served.title == expected)
    }

    @Test func unknownEncodingIsReadAsUTF8AndFlagged() throws {
        let feed = try parseBytes(Array("<?xml version=\"1.0\" encoding=\"x-no-such\"?><rss version=\"2.0\"><channel><title>ok</title></channel></rss>".utf8))
        #expect(feed.title == "ok")
        #expect(feed.bozoReason?.contains("unknown encoding 'x-no-such'") == true)
    }

    @Test func outputIsAlwaysValidUTF8() throws {
        var bytes = Array("<rss version=\"2.0\"><channel><title>a".utf8)
        bytes += [0xFF, 0xFE, 0xC3]
        bytes += Array("b</title></channel></rss>".utf8)
        let title = try #require(try parseBytes(bytes).title)
        #expect(String(validatingUTF8: title) != nil)
        #expect(title.hasPrefix("a") && title.hasSuffix("b"))
    }

    @Test func servedAsTextPlainIsFlagged() throws {
        let feed = try parseBytes(Array(#"<rss version="2.0"><channel><title>x</title></channel></rss>"#.utf8), contentType: "text/plain")
        #expect(feed.bozo)
    }
}

@Suite struct HostileDocumentTests {
    @Test func quadraticBlowupIsRefused() {
        let big = String(repeating: "a", count: 50_000)
        let references = String(repeating: "&big;", count: 50_000)
        let attack = "<!DOCTYPE rss [<!ENTITY big \"\(big)\">]><rss version=\"2.0\"><channel><title>\(references)</title></channel></rss>"
        do {
            _ = try parse(attack)
            Issue.record("expected a refusal")
        } catch {
            #expect("\(error)".contains("big"))
        }
    }

    @Test func manyReferencesToAShortEntityHitTheExpansionBudget() {
        let references = String(repeating: "&e;", count: 200_000)
        let attack = "<!DOCTYPE rss [<!ENTITY e \"0123456789\">]><rss version=\"2.0\"><channel><title>\(references)</title></channel></rss>"
        do {
            _ = try parse(attack)
            Issue.record("expected a refusal")
        } catch {
            #expect("\(error)".contains("expand"))
        }
    }

    @Test func externalDTDIsNeverFetched() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let feed = try parse("""
            <?xml version="1.0"?>
            <!DOCTYPE rss SYSTEM "\(server.url("files/evil.dtd"))">
            <rss version="2.0"><channel><title>safe</title></channel></rss>
            """)
        #expect(feed.title == "safe")
        #expect(!server.requestedPaths().contains { $0.contains("evil.dtd") })
    }

    @Test func externalParameterEntityIsNeverFetched() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let feed = try? parse("""
            <!DOCTYPE rss [<!ENTITY % remote SYSTEM "\(server.url("files/evil.ent"))"> %remote;]>
            <rss version="2.0"><channel><title>x</title></channel></rss>
            """)
        #expect(feed?.title == "x")
        #expect(!server.requestedPaths().contains { $0.contains("evil.ent") })
    }

    @Test func deepNestingStopsWithAReason() throws {
        let depth = 100_000
        let document = "<rss version=\"2.0\"><channel><item><title>kept</title></item><item><description>"
            + String(repeating: "<b>", count: depth) + "x" + String(repeating: "</b>", count: depth)
            + "</description></item></channel></rss>"
        let feed = try parse(document)
        let bozo = feed.bozo
        let reason = feed.bozoReason ?? ""
        let firstTitle = feed.entries.first?.title
        #expect(bozo)
        #expect(reason.contains("deeper than"))
        #expect(firstTitle == "kept")
    }

    @Test func hugeTextNodeIsCut() throws {
        let huge = String(repeating: "x", count: TextCapture.maximumBytes + 1000)
        let feed = try parse("<rss version=\"2.0\"><channel><item><description>\(huge)</description></item></channel></rss>")
        let bozo = feed.bozo
        let length = feed.entries.first?.summary?.utf8.count ?? 0
        #expect(bozo)
        #expect(length <= TextCapture.maximumBytes)
    }
}

/// Defects and variants found by running feedparser's own test documents (bench/feedparser-suite.py).
@Suite struct FeedparserSuiteFindingsTests {
    @Test func rssWithADefaultNamespaceIsStillRSS() throws {
        for namespace in ["http://backend.userland.com/rss2", "http://blogs.law.harvard.edu/tech/rss"] {
            let feed = try parse("""
                <rss version="2.0" xmlns="\(namespace)"><channel><title>Userland</title>
                <item><title>One</title><link>https://news.example/1</link></item></channel></rss>
                """)
            #expect(feed.format == .rss20)
            #expect(feed.title == "Userland")
            #expect(feed.entries.map(\.link) == ["https://news.example/1"])
        }
    }

    @Test func preReleaseAtomNamespacesAreAtom03() throws {
        for namespace in ["http://example.com/necho", "http://purl.org/echo/", "http://purl.org/pie/"] {
            let feed = try parse(#"<feed version="0.3" xmlns="\#(namespace)"><title>Example Atom</title><entry><title>E</title></entry></feed>"#)
            #expect(feed.format == .atom03)
            #expect(feed.title == "Example Atom")
            #expect(feed.entries.first?.title == "E")
        }
    }

    @Test func atomContentWithABinaryMediaTypeIsBase64() throws {
        let feed = try parse("""
            <feed xmlns="http://www.w3.org/2005/Atom"><entry>
              <content type="application/octet-stream">
                RXhhbXBsZSA8Yj5BdG9tPC9iPg==
              </content>
              <summary type="text/plain">not base64</summary>
            </entry></feed>
            """)
        #expect(feed.entries.first?.content == "Example <b>Atom</b>")
        #expect(feed.entries.first?.summary == "not base64")
    }

    @Test func aRelativeAtomIDIsResolvedAndAnOpaqueOneKept() throws {
        let feed = try parse("""
            <feed xmlns="http://www.w3.org/2005/Atom"><id>/feeds/main</id>
            <entry><id>/relative/link</id></entry><entry><id>tag:news.example,2024:1</id></entry><entry><id>abc123</id></entry></feed>
            """)
        #expect(feed.id == "https://news.example/feeds/main")
        #expect(feed.entries.map(\.id) == ["https://news.example/relative/link", "tag:news.example,2024:1", "abc123"])
    }

    @Test func rssEnclosuresAreLinksToInDocumentOrder() throws {
        let feed = try parse("""
            <rss version="2.0"><channel><item>
            <enclosure url="https://cdn.example/a.mp3" length="100" type="audio/mpeg"/>
            <link>https://news.example/a</link>
            </item><item><link>https://news.example/b</link><enclosure url="https://news.example/b"/></item></channel></rss>
            """)
        #expect(feed.entries[0].links.map(\.rel) == ["enclosure", "alternate"])
        #expect(feed.entries[0].links.first?.href == "https://cdn.example/a.mp3")
        #expect(feed.entries[0].enclosures.first?.type == "audio/mpeg")
        // An enclosure at the item's own URL does not stand in for the alternate link.
        #expect(feed.entries[1].links.map(\.rel) == ["alternate", "enclosure"])
    }

    @Test func anUnloadedParameterEntityOfTheDTDIsNotBozo() throws {
        let feed = try parse("""
            <?xml version="1.0"?>
            <!DOCTYPE rdf:RDF [
            <!ENTITY % HTMLlat1 PUBLIC "-//W3C//ENTITIES Latin 1 for XHTML//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml-lat1.ent">
            %HTMLlat1;
            ]>
            <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
            <item rdf:about="https://news.example/1"><title>One</title></item></rdf:RDF>
            """)
        #expect(!feed.bozo, "\(feed.bozoReason ?? "")")
        #expect(feed.entries.first?.title == "One")
        // A real error after it still counts.
        let broken = try parse("""
            <!DOCTYPE rss [ <!ENTITY % x SYSTEM "x.ent"> %x; ]>
            <rss version="2.0"><channel><item><title>One</title></item></channel>
            """)
        #expect(broken.bozo)
    }
}
