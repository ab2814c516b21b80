import FeedModel
import FeedParser
import Foundation
import Testing

/// RSS items and channels that carry their fields in extension namespaces, one document each,
/// and the precedence when several elements carry one field.
@Suite struct ExtensionElementTests {
    let namespaces = #"xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" "#
        + #"xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:atom="http://www.w3.org/2005/Atom" "#
        + #"xmlns:xhtml="http://www.w3.org/1999/xhtml" xmlns:content="http://purl.org/rss/1.0/modules/content/""#

    /// One RSS 2.0 document with `channel` extra and one item made of `item`.
    func feed(channel: String = "<title>C</title>", item: String) throws -> ParsedFeed {
        try parse("<?xml version=\"1.0\"?><rss version=\"2.0\" \(namespaces)><channel>\(channel)<item>\(item)</item></channel></rss>")
    }

    func entry(_ item: String) throws -> FeedEntry {
        try #require(try feed(item: item).entries.first)
    }

    @Test func dcTitle() throws { #expect(try entry("<dc:title>DC title</dc:title>").title == "DC title") }
    @Test func dcDescription() throws { #expect(try entry("<dc:description>DC text</dc:description>").summary == "DC text") }
    @Test func dctermsIssuedAndCreated() throws {
        #expect(try entry("<dcterms:issued>2024-11-04T12:00:00Z</dcterms:issued>").published == date("2024-11-04T12:00:00Z"))
        #expect(try entry("<dcterms:created>2024-11-03T12:00:00Z</dcterms:created>").published == date("2024-11-03T12:00:00Z"))
    }
    @Test func dctermsModified() throws { #expect(try entry("<dcterms:modified>2024-11-05T12:00:00Z</dcterms:modified>").updated == date("2024-11-05T12:00:00Z")) }
    @Test func itunesSummary() throws {
        let item = try entry("<itunes:summary>Episode about &lt;b&gt;bees</itunes:summary>")
        #expect(item.summary == "Episode about <b>bees")
        #expect(item.summaryIsPlainText)
    }
    @Test func itunesAuthor() throws { #expect(try entry("<itunes:author>Ann Host</itunes:author>").author == "Ann Host") }
    @Test func itunesImageOfTheChannel() throws {
        #expect(try feed(channel: #"<title>C</title><itunes:image href="https://p.example/cover.jpg"/>"#, item: "<title>x</title>").image == "https://p.example/cover.jpg")
    }
    @Test func atomContentInRSS() throws { #expect(try entry(#"<atom:content type="html">&lt;p&gt;Body&lt;/p&gt;</atom:content>"#).content == "<p>Body</p>") }
    @Test func atomAuthorInRSS() throws {
        #expect(try entry("<atom:author><atom:name>Bo Writer</atom:name><atom:email>bo@w.example</atom:email></atom:author>").author == "Bo Writer")
    }
    @Test func atomPublishedAndUpdatedInRSS() throws {
        let item = try entry("<atom:published>2024-11-04T10:00:00Z</atom:published><atom:updated>2024-11-04T11:00:00Z</atom:updated>")
        #expect(item.published == date("2024-11-04T10:00:00Z"))
        #expect(item.updated == date("2024-11-04T11:00:00Z"))
    }
    @Test func xhtmlBody() throws {
        #expect(try entry("<xhtml:body><xhtml:p>First <xhtml:b>bold</xhtml:b> para</xhtml:p></xhtml:body>").content?.contains("bold") == true)
    }
    @Test func contentEncodedBesideDescriptionKeepsBoth() throws {
        let item = try entry("<description>Teaser</description><content:encoded>&lt;p&gt;Full&lt;/p&gt;</content:encoded>")
        #expect(item.summary == "Teaser")
        #expect(item.content == "<p>Full</p>")
    }
    @Test func aSummaryElementInRSSIsTheSummaryAndTheDescriptionBesideItTheContent() throws {
        let both = try entry("<summary>Short</summary><description>&lt;p&gt;Long&lt;/p&gt;</description>")
        #expect(both.summary == "Short")
        #expect(both.content == "<p>Long</p>")
        let reversed = try entry("<description>Long</description><summary>Short</summary>")
        #expect(reversed.summary == "Long")
        #expect(reversed.content == "Short")
        let alone = try entry("<summary>Only</summary>")
        #expect(alone.summary == "Only" && alone.content == nil)
        // content:encoded stays the content whatever came before it.
        let encoded = try entry("<summary>S</summary><description>D</description><content:encoded>E</content:encoded>")
        #expect(encoded.summary == "S" && encoded.content == "E")
    }
    @Test func escapedHTMLInAnXHTMLDivUnderTypeHTMLIsTheHTML() throws {
        // TypePad wrote Atom content this way: the div is a wrapper, its text the escaped HTML.
        let atom = try parse(#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id><content type="html"> <div xmlns="http://www.w3.org/1999/xhtml">Example &lt;b&gt;Atom&lt;/b&gt;</div></content></entry></feed>"#)
        #expect(atom.entries.first?.content == "Example <b>Atom</b>")
        // A div that is not XHTML's (unescaped HTML in an RSS description) stays markup.
        #expect(try entry("<description><div><b>x</b> &amp; y</div></description>").summary == "<div><b>x</b> &amp; y</div>")
    }
    @Test func channelExtensions() throws {
        let channel = try feed(channel: "<dc:title>DC channel</dc:title><itunes:summary>About the show</itunes:summary><itunes:author>Host</itunes:author>", item: "<title>x</title>")
        #expect(channel.title == "DC channel")
        #expect(channel.subtitle == "About the show")
        #expect(channel.author == "Host")
    }

    @Test func theCoreElementWinsWhereverItStands() throws {
        // Core first or last, the core element's value is kept; extensions fill empty fields only.
        for order in [
            "<title>Core</title><dc:title>DC</dc:title><description>Core text</description><dc:description>DC text</dc:description><pubDate>Mon, 04 Nov 2024 12:00:00 GMT</pubDate><dcterms:issued>2020-01-01T00:00:00Z</dcterms:issued><author>core@x.example</author><itunes:author>It</itunes:author>",
            "<dc:title>DC</dc:title><title>Core</title><itunes:summary>It text</itunes:summary><description>Core text</description><dcterms:issued>2020-01-01T00:00:00Z</dcterms:issued><pubDate>Mon, 04 Nov 2024 12:00:00 GMT</pubDate><itunes:author>It</itunes:author><author>core@x.example</author>",
        ] {
            let item = try entry(order)
            #expect(item.title == "Core")
            #expect(item.summary == "Core text")
            #expect(item.published == date("2024-11-04T12:00:00Z"))
            #expect(item.author == "core@x.example")
        }
        let content = try entry("<atom:content>Atom</atom:content><content:encoded>Encoded</content:encoded>")
        #expect(content.content == "Encoded")
    }

    @Test func anEmptyRSS090DocumentIsRecognisedByTheRootsDefaultNamespace() throws {
        let empty = try parse(#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/"></rdf:RDF>"#)
        #expect(empty.format == .rss090)
        #expect(!empty.bozo)
    }

    @Test func xhtmlBodyIsTrimmed() throws {
        #expect(try entry(#"<body xmlns="http://www.w3.org/1999/xhtml">"# + "\n<p>Example content</p>\n</body>").content == "<p>Example content</p>")
    }

    @Test func rss090IsRecognisedByItsNamespace() throws {
        let netscape = try parse(#"<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/"><item><title>N1</title><link>http://n.example/1</link></item><channel><title>N</title></channel></rdf:RDF>"#)
        #expect(netscape.format == .rss090)
        #expect(netscape.entries.first?.title == "N1")
    }

    @Test func anRDFDocumentInAnUnknownNamespaceIsReadAndFlagged() throws {
        let unknown = try parse(#"<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://example.com/unknown/"><channel><title>U</title></channel><item><title>U1</title></item></rdf:RDF>"#)
        #expect(unknown.format == .rss10)
        #expect(unknown.bozo)
        #expect(unknown.bozoReason?.contains("neither RSS 1.0 nor 0.90") == true)
        #expect(unknown.title == "U")
        #expect(unknown.entries.first?.title == "U1")
    }

    @Test func aNamespaceWithSpacesAroundItIsThatNamespace() throws {
        let spaced = try parse(#"<?xml version="1.0"?><rss version="2.0" xmlns:dc=" http://purl.org/dc/elements/1.1/ "><channel><title>S</title><item><title>S1</title><dc:creator>Spacey</dc:creator></item></channel></rss>"#)
        #expect(!spaced.bozo, "\(spaced.bozoReason ?? "")")
        #expect(spaced.entries.first?.author == "Spacey")
    }

    @Test func anAtomTitleWithAnOddTypeIsNeverDecodedIntoGarbage() throws {
        // Not base64 (or not UTF-8 once decoded): read as it is.
        let odd = try parse(#"<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><entry><id>x</id><title type="application/x-weird">Plain title, with words</title><summary type="application/x-weird">/w==</summary></entry></feed>"#)
        #expect(odd.entries.first?.title == "Plain title, with words")
        #expect(odd.entries.first?.summary == "/w==")  // decodes to 0xFF, which is no UTF-8 text
        // Real base64 of UTF-8 text is decoded, in content as RFC 4287 4.1.3.3 says and in titles
        // as publishers (and feedparser) do.
        let encoded = try parse(#"<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><entry><id>x</id><title type="application/octet-stream">RXhhbXBsZSA8Yj5BdG9tPC9iPg==</title><content type="application/octet-stream">SGVsbG8=</content></entry></feed>"#)
        #expect(encoded.entries.first?.title == "Example Atom")  // titles are plain text
        #expect(encoded.entries.first?.content == "Hello")
    }

    @Test func anAtomEntrysLinkIsNeverAnEnclosure() throws {
        let atom = try parse(#"<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><entry><id>x</id><title>t</title><link rel="enclosure" href="http://a.example/e.mp3"/><link rel="self" href="http://a.example/self"/></entry><entry><id>y</id><title>t</title><link rel="enclosure" href="http://a.example/2.mp3"/><link href="http://a.example/2"/></entry></feed>"#)
        #expect(atom.entries[0].link == nil)
        #expect(atom.entries[0].enclosures.first?.url == "http://a.example/e.mp3")
        #expect(atom.entries[1].link == "http://a.example/2")
    }

    @Test func jsonFeedWithABareVersionNumberIsReadAndFlagged() throws {
        let json = try FeedParser.parse(Array(#"{"version": "1.1", "title": "J", "items": [{"id": "1", "content_text": "x"}]}"#.utf8))
        #expect(json.format == .jsonfeed)
        #expect(json.entries.count == 1)
        #expect(json.bozo && json.bozoReason?.contains("https://jsonfeed.org/version/1.1") == true)
    }
}

/// Relative links in summary and content markup resolve against the base where they stood.
@Suite struct MarkupLinkTests {
    @Test func relativeURLAttributesResolveAndTheRestStays() {
        let markup = ##"<p class="x"><a href="/relative/uri">here</a> <img src='img/a.png' alt="/not/a/link"> <a href="https://abs.example/">abs</a> <a href="#top">top</a> <a href=mailto:x@y.example>m</a></p>"##
        let resolved = MarkupLinks.resolve(markup, against: "http://base.example/dir/feed.xml")
        #expect(resolved == ##"<p class="x"><a href="http://base.example/relative/uri">here</a> <img src='http://base.example/dir/img/a.png' alt="/not/a/link"> <a href="https://abs.example/">abs</a> <a href="#top">top</a> <a href=mailto:x@y.example>m</a></p>"##)
        #expect(MarkupLinks.resolve(markup, against: nil) == markup)
        #expect(MarkupLinks.resolve("no tags = here", against: "http://b.example/") == "no tags = here")
        #expect(MarkupLinks.resolve(#"<a href="x">"#, against: "file:///tmp/feed.xml") == #"<a href="x">"#)  // a file is no base
    }

    @Test func aRelativeIRIStaysAnIRIWhenResolved() {
        #expect(MarkupLinks.resolve(#"<a href="À/é">x</a>"#, against: "http://any.test/d/") == #"<a href="http://any.test/d/À/é">x</a>"#)
        // Escapes the feed wrote itself stay escapes.
        #expect(MarkupLinks.resolve(#"<a href="%C3%80">x</a>"#, against: "http://any.test/") == #"<a href="http://any.test/%C3%80">x</a>"#)
    }

    @Test func referencesToC1ControlsAreWrittenAsTheirWindows1252Characters() {
        let markup = "<p>don&#146;t &#x96; &#X80;5 &#129; &#8217; &#146 &amp;#146;</p>"
        #expect(MarkupLinks.forOutput(markup, base: nil) == "<p>don&#x2019;t &#x2013; &#x20ac;5 &#129; &#8217; &#146 &amp;#146;</p>")
        #expect(MarkupLinks.forOutput("plain & simple", base: nil) == "plain & simple")
        #expect(MarkupLinks.forOutput(" \n <!DOCTYPE \t", base: nil) == "<!DOCTYPE")
    }

    @Test func theEntryRemembersTheBaseOfItsMarkup() throws {
        let atom = try parse(#"<feed xmlns="http://www.w3.org/2005/Atom"><entry xml:base="http://entry.example/a/"><id>x</id><content type="html" xml:base="http://content.example/c/">&lt;a href="rel"&gt;x&lt;/a&gt;</content><summary type="html">&lt;a href="s"&gt;x&lt;/a&gt;</summary></entry></feed>"#)
        let entry = try #require(atom.entries.first)
        #expect(entry.contentBase == "http://content.example/c/")
        #expect(entry.summaryBase == "http://entry.example/a/")
        #expect(entry.content == #"<a href="rel">x</a>"#)  // the model keeps the markup as delivered
    }
}
