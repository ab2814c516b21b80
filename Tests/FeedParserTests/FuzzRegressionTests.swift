import FeedParser
import Foundation
import Testing

/// Inputs the fuzzers (fuzz/run.sh) found problems with, kept as fixtures: each must parse
/// (or fail with an error) and give the expected result. Under the sanitizers,
/// `bash fuzz/run.sh --regress` runs the same files and also catches leaks.
@Suite struct FuzzRegressionTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
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
}
