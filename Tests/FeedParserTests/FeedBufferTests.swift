import FeedModel
import FeedParser
import Foundation
import Testing
import XMLSupport

/// Parsing from a buffer and the attribute limit, through the feed parser.
@Suite struct FeedBufferTests {
    @Test func parsingABufferGivesTheSameFeedAsParsingAnArray() throws {
        let xml = """
            <?xml version="1.0" encoding="ISO-8859-1"?>
            <rss version="2.0"><channel><title>Caf\u{E9}</title>
            <item><title>Fish &amp; chips</title><link>/a</link><guid>x1</guid></item></channel></rss>
            """
        // Latin-1 bytes: the parser has to convert, so the buffer path uses its own copy.
        let latin1 = Array(xml.data(using: .isoLatin1) ?? Data())
        let utf8 = Array(xml.utf8)
        for bytes in [latin1, utf8] {
            let fromArray = try FeedParser.parse(bytes, url: "https://news.example/feed")
            let fromBuffer = try bytes.withUnsafeBufferPointer { buffer in
                try FeedParser.parse(buffer: buffer, url: "https://news.example/feed")
            }
            #expect(fromBuffer == fromArray)
            #expect(fromBuffer.title == "Café")
            #expect(fromBuffer.entries.first?.link == "https://news.example/a")
        }
    }
}

/// A start tag with a huge number of attributes would stall libxml2 (quadratic): it is refused
/// before the parser sees it, and only real start tags are counted.
@Suite struct AttributeLimitTests {
    func feed(itemAttributes: Int, extra: String = "") -> [UInt8] {
        let attributes = (0..<itemAttributes).map { "a\($0)=\"x\"" }.joined(separator: " ")
        return Array("""
            <?xml version="1.0"?>
            <rss version="2.0">
            <channel><title>t</title>\(extra)
            <item \(attributes)><title>Story</title><link>https://a.example/1</link></item>
            </channel></rss>
            """.utf8)
    }

    @Test func aTagWithTooManyAttributesIsRefusedWithItsLine() throws {
        do {
            _ = try FeedParser.parse(feed(itemAttributes: 20_000), url: "https://a.example/rss")
            Issue.record("a 20,000-attribute tag must be refused")
        } catch {
            #expect(error.description.contains("line 4: a start tag with more than 1024 attributes"), "\(error)")
        }
        // Across chunk boundaries too (the document is fed in 64 KB pieces).
        let big = feed(itemAttributes: 40_000, extra: String(repeating: "<!-- padding -->", count: 5_000))
        #expect(big.count > 3 << 16)
        #expect(throws: (any Error).self) { _ = try FeedParser.parse(big, url: "https://a.example/rss") }
    }

    @Test func aThousandAttributesAndLookalikesInTextAreFine() throws {
        #expect(try FeedParser.parse(feed(itemAttributes: 1_000), url: "https://a.example/rss").entries.count == 1)
        // Words after a `<` inside CDATA, a comment or a processing instruction are not attributes.
        let words = (0..<3_000).map { "w\($0)" }.joined(separator: " ")
        let lookalikes = "<description><![CDATA[if a <b \(words)]]></description><!-- <c \(words) --><?pi <d \(words)?>"
        let parsed = try FeedParser.parse(feed(itemAttributes: 3, extra: lookalikes), url: "https://a.example/rss")
        #expect(parsed.entries.count == 1)
    }
}

