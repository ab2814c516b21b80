import FeedParser
import Foundation
import Testing

/// Inputs the fuzzers (Fuzz/run.sh) found problems with, kept as fixtures: each must parse
/// (or fail with an error) and give the expected result. Under the sanitizers,
/// `bash Fuzz/run.sh --regress` runs the same files and also catches leaks.
@Suite struct FuzzRegressionTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuzz")

    static func files(_ target: String) -> [URL] {
        let folder = fixtures.appendingPathComponent(target)
        return ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []).sorted { $0.path < $1.path }
    }

    @Test func everyKeptFeedParserInputParsesWithoutCrashing() throws {
        let files = Self.files("FuzzFeedParser")
        #expect(!files.isEmpty)
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: file))
            _ = try? FeedParser.parse(bytes, url: "https://fuzz.example/feed/", contentType: nil)
            _ = try? FeedParser.parse(bytes, url: nil, contentType: "application/rss+xml; charset=iso-8859-1")
        }
    }

    /// The leak was libxml2's stand-in document for an internal DTD subset; the document itself
    /// must still be read with its declared entity answered.
    @Test func anInternalSubsetDocumentIsReadWithItsEntity() throws {
        let file = Self.fixtures.appendingPathComponent("FuzzFeedParser/leak-internal-subset-stand-in-document.xml")
        let feed = try FeedParser.parse([UInt8](try Data(contentsOf: file)), url: "https://fuzz.example/feed/")
        #expect(feed.format == .rss10)
        #expect(feed.title == "Rent")
        #expect(feed.entries.first?.content == "<p>Text &mdash; more</p>")
    }

    /// An Atom date that does not parse used to trap (an exclusivity violation in the adapter):
    /// now it is ignored and an earlier date of the entry is kept.
    @Test func anUnparsableAtomDateIsIgnoredAndAnEarlierOneKept() throws {
        let xml = """
            <feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>urn:x</id><title>x</title>
            <issued>2024-11-04T12:00:00Z</issued><published>2024-11-04T12:00:00+/01:00</published></entry></feed>
            """
        let feed = try FeedParser.parse(Array(xml.utf8))
        #expect(feed.entries.first?.published == Date(timeIntervalSince1970: 1_730_721_600))
        let fixture = Self.fixtures.appendingPathComponent("FuzzFeedParser/crash-atom-unparsable-published-date.xml")
        let found = try FeedParser.parse([UInt8](try Data(contentsOf: fixture)), url: "https://fuzz.example/feed/")
        #expect(found.format == .atom10)
        #expect(found.entries.count == 1)
        #expect(found.entries.first?.published == nil)
    }
}
