import FeedModel
import Foundation
import Testing
import XMLSupport

/// Records element names as the stream parser reports them.
private final class NameRecorder: XMLStreamHandler {
    var starts: [XMLName] = []
    var attributeNames: [XMLName] = []
    var ends: [XMLName] = []
    var text = ""

    func startElement(_ name: XMLName, attributes: [XMLAttribute]) {
        starts.append(name)
        attributeNames += attributes.map(\.name)
    }
    func endElement(_ name: XMLName) { ends.append(name) }
    func characters(_ bytes: UnsafeBufferPointer<UInt8>) { text += String(decoding: bytes, as: UTF8.self) }
    func entityReference(named name: String) {}
}

@Suite struct StreamParserTests {
    @Test func eachDistinctNameGetsOneInternedIndex() throws {
        let xml = """
            <rss xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:x="http://purl.org/dc/elements/1.1/">\
            <item><title>a</title><dc:creator>b</dc:creator><x:creator>c</x:creator></item>\
            <item><title lang="en">d</title><dc:creator>e</dc:creator></item></rss>
            """
        let recorder = NameRecorder()
        _ = try XMLStreamParser.parse(Array(xml.utf8), handler: recorder)
        let starts = recorder.starts
        #expect(starts.map(\.qualified) == ["rss", "item", "title", "dc:creator", "x:creator", "item", "title", "dc:creator"])
        #expect(starts.allSatisfy { $0.internedIndex >= 0 })
        // The same name (local part, namespace and prefix) has one index, in start and end events.
        #expect(starts[1].internedIndex == starts[5].internedIndex)
        #expect(starts[2].internedIndex == starts[6].internedIndex)
        #expect(starts[3].internedIndex == starts[7].internedIndex)
        #expect(recorder.ends.first?.internedIndex == starts[2].internedIndex)
        // Same namespace and local name, another prefix: another name as written.
        #expect(starts[3].internedIndex != starts[4].internedIndex)
        #expect(Set(starts.map(\.internedIndex)).count == 5)  // rss, item, title, dc:creator, x:creator
        // Attribute names are interned from the same table.
        #expect(recorder.attributeNames.map(\.localName) == ["lang"])
        #expect(!Set(starts.map(\.internedIndex)).contains(recorder.attributeNames[0].internedIndex))
        // Equality is about the name as written, not the index.
        #expect(starts[2] == XMLName(localName: "title"))
        #expect(XMLName(localName: "title").internedIndex == -1)
    }

    @Test func namesPastTheTableSizeAreStillReported() throws {
        let count = 1500
        let body = (0..<count).map { "<e\($0)/>" }.joined()
        let recorder = NameRecorder()
        let result = try XMLStreamParser.parse(Array("<root>\(body)</root>".utf8), handler: recorder)
        #expect(result.wellFormed)
        #expect(recorder.starts.count == count + 1)
        #expect(recorder.starts.last?.localName == "e\(count - 1)")
        #expect(recorder.starts.last?.internedIndex == -1)
        #expect(recorder.starts.filter { $0.internedIndex >= 0 }.count < count)
    }
}

/// The same for HTML pages: the tag is cut to the limit and the page is still read.
@Suite struct HTMLTagLimitTests {
    @Test func aPageWithAHugeTagIsCutAndStillRead() throws {
        let attributes = (0..<20_000).map { "data-a\($0)=\"x\"" }.joined(separator: " ")
        let page = "<html><body><div id=\"wrap\" \(attributes)><p>The story, still here.</p></div><p>After.</p></body></html>"
        let root = try #require(HTMLDOM.parse(Array(page.utf8)))
        var divs: [HTMLElement] = []
        root.descendants { if $0.name == "div" { divs.append($0) } }
        let div = try #require(divs.first)
        #expect(div.attributes.count == TagLimits.maxAttributes)
        #expect(div.attribute("id") == "wrap")
        #expect(root.textContent.contains("The story, still here.") && root.textContent.contains("After."))
    }

    @Test func ordinaryTagsAreLeftAlone() {
        let page = Array("<p class=\"a\" data-x='1>2' hidden>text</p><img src=x alt=\"a > b\">".utf8)
        #expect(TagLimits.capped(page) == page)
    }

    /// An unclosed `<div>` in a menu: `</nav>` closes it, as browsers do, so the story after the
    /// menu is not inside the `<nav>` (libxml2 alone would ignore that end tag).
    @Test func anEndTagOfABlockClosesTheDivsLeftOpenInside() throws {
        let page = "<html><body><header><nav><div class=\"menu\"><div><a href=\"/\">Home</a></nav></header><main><p>The story.</p></main></body></html>"
        let root = try #require(HTMLDOM.parse(Array(page.utf8)))
        var navs: [HTMLElement] = []
        root.descendants { if $0.name == "nav" { navs.append($0) } }
        let nav = try #require(navs.first)
        #expect(!nav.textContent.contains("The story."))
        #expect(root.textContent.contains("The story."))
        let unchanged = Array("<div><nav><div>a</div></nav></div>".utf8)
        #expect(BlockEnds.balanced(unchanged) == unchanged)
    }

    /// NUL bytes end libxml2's input; a page padded with them keeps what follows.
    @Test func nulBytesDoNotEndThePage() throws {
        let page = Array("<html><body><p>Before.</p><img src=\"x\">".utf8) + [0, 0, 0] + Array("<p>The story after the padding.</p></body></html>".utf8)
        let root = try #require(HTMLDOM.parse(page))
        #expect(root.textContent.contains("The story after the padding."))
    }

    /// A quote opens a value only right after `=`, as browsers read it: a curly-quoted value
    /// closed by a straight quote (seen on a real page's `<meta>`) must not swallow the page.
    @Test func aStrayQuoteOutsideAValueDoesNotSwallowThePage() throws {
        let filler = String(repeating: "<div class=\"x\">filler</div>", count: 4_000)  // past the 64 KiB tag cap
        let page = "<html><head><meta name=\u{201C}verify\u{201D} content=\u{201C}abc\" /><script>var a = 'b';</script></head>"
            + "<body>\(filler)<p title=it's>The story, still here.</p><p>After.</p></body></html>"
        let unchanged = TagLimits.capped(Array(page.utf8)) == Array(page.utf8)  // (a Bool: no 100 KB dump on failure)
        #expect(unchanged)
        let root = try #require(HTMLDOM.parse(Array(page.utf8)))
        #expect(root.textContent.contains("The story, still here.") && root.textContent.contains("After."))
        #expect(!root.textContent.contains("var a"))
    }
}
