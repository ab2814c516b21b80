import Foundation
import TestSupport
import Testing

/// The `feedcorpus` binary as an operator runs it: output, exit statuses.
@Suite(.offTheCooperativePool, .serialized) final class CLITests {
    let workspace: URL
    let server: TestHTTPServer

    init() throws {
        workspace = try TemporaryFolder.make(prefix: "cli")
        server = try TestHTTPServer()
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(at: workspace)
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: URL { built("feedcorpus") }
    /// The benchmark tools (`feedcorpus-bench`), built beside `feedcorpus`.
    static var benchBinary: URL { built("feedcorpus-bench") }

    static func built(_ name: String) -> URL {
        let besideRunner = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: besideRunner.path) { return besideRunner }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/\(name)")
    }

    func feedcorpus(_ arguments: [String]) throws -> Run {
        try Self.run(Self.binary, arguments)
    }

    /// Runs a program to its end and collects its output.
    static func run(_ executable: URL, _ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs one of `scripts/` against the built binary and returns its `--json` summary and exit status.
    static func script(_ name: String, _ arguments: [String]) throws -> (summary: [String: Any], status: Int32) {
        let run = try run(URL(fileURLWithPath: "/usr/bin/env"),
                          ["python3", repository.appendingPathComponent("scripts/\(name)").path, "--binary", binary.path, "--json"] + arguments)
        // A script that fails before its summary prints a traceback: show it, not a JSON error.
        let summary = try #require((try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8))) as? [String: Any],
                                   "\(name) printed no JSON (exit \(run.status)): \(run.stdout.suffix(500)) \(run.stderr.suffix(3000))")
        return (summary, run.status)
    }

    /// A config with corpus and state in the workspace, no politeness delay, and these feeds.
    func writeConfig(feeds: [(url: String, name: String)]) throws -> String {
        try writeConfig("corpus: corpus\nstate: state/feedcorpus.sqlite\nfetch: {host_delay: 0}\nfeeds:\n"
            + feeds.map { "  - {url: \"\($0.url)\", name: \($0.name), fulltext: never}\n" }.joined())
    }

    func writeConfig(_ text: String, file: String = "feedcorpus.yaml") throws -> String {
        let path = workspace.appendingPathComponent(file).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A feed whose window overflows, with an RFC 5005 archive: `fetch` says what the backfill
    /// recovered and `status` (text and JSON) shows it per feed.
    @Test func fetchAndStatusShowABackfill() throws {
        func item(_ n: Int, at date: Date) -> String {
            let words = (0..<60).map { "w\(n)x\($0 * 7 % 13)y\($0)" }.joined(separator: " ")
            return "<item><title>Story \(n)</title><link>https://news.example/s/\(n)</link><guid>https://news.example/s/\(n)</guid>"
                + "<pubDate>\(Self.rfc822(date))</pubDate><description>&lt;p&gt;\(words).&lt;/p&gt;</description></item>"
        }
        func rss(_ items: [String], archive: String? = nil) -> String {
            "<?xml version=\"1.0\"?><rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\"><channel><title>t</title>"
                + (archive.map { "<atom:link rel=\"prev-archive\" href=\"\($0)\"/>" } ?? "") + items.joined() + "</channel></rss>"
        }
        let now = Date()
        let date = { (n: Int) in now.addingTimeInterval(Double(n - 20) * 60) }
        try server.put("bf.xml", rss((1...3).reversed().map { item($0, at: date($0)) }))
        let path = try writeConfig("""
            corpus: corpus
            state: state/feedcorpus.sqlite
            fetch: {host_delay: 0, allow_private_networks: true}
            feeds: [{url: "\(server.url("files/bf.xml"))", name: busy, fulltext: never}]
            """)
        #expect(try feedcorpus(["fetch", "--once", "--config", path]).status == 0)
        try server.put("bf.xml", rss((7...9).reversed().map { item($0, at: date($0)) }, archive: server.url("files/bf-archive.xml")))
        try server.put("bf-archive.xml", rss((1...6).reversed().map { item($0, at: date($0)) }))
        let run = try feedcorpus(["fetch", "--once", "--all", "--config", path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("ok         busy: 3 entries, 3 new, 3 stored, 0 duplicates dropped (window overflow: a backfill follows)"), "\(run.stdout)")
        #expect(run.stdout.contains("backfill   busy: 3 stories recovered (3 via archive, 0 via sitemap), 0 duplicates dropped, 1 document and 0 pages fetched; finished: recovered 3 stories"), "\(run.stdout)")
        #expect(run.stdout.contains("6 stories stored, 0 duplicates dropped (3 of the stories recovered by backfill)"), "\(run.stdout)")

        let text = try feedcorpus(["status", "--config", path])
        #expect(text.stdout.contains("9 stored, 0 duplicates dropped, 1 window overflows, 3 recovered by backfill"), "\(text.stdout)")
        #expect(text.stdout.contains("    last backfill "), "\(text.stdout)")
        let json = try feedcorpus(["status", "--json", "--config", path])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let feed = try #require((object["feeds"] as? [[String: Any]])?.first)
        #expect(feed["backfilled_stories"] as? Int == 3)
        #expect(feed["backfill_pending"] as? Bool == false)
        #expect((feed["last_backfill"] as? String)?.hasPrefix("recovered 3 stories after a window overflow (3 via archive") == true)
    }

    static func rfc822(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }

    @Test func configErrorExitsWith2AndNamesFileKeyAndLine() throws {
        let path = try writeConfig("""
            corpus: corpus
            layout: hourly
            feeds: []
            """)
        let run = try feedcorpus(["fetch", "--once", "--config", path])
        #expect(run.status == 2)
        #expect(run.stderr.contains("\(path):2: layout: expected one of daily, flat; got 'hourly'"))
    }

    @Test func aDamagedStateFileHasItsOwnMessageAndExit3() throws {
        try server.put("d.xml", FeedFixtures.rss(title: "D", items: [FeedFixtures.Item(guid: "d1", title: "D one", paragraphs: ["Words."])]))
        let config = workspace.appendingPathComponent("damaged.yaml").path
        try Data("corpus: damaged-corpus\nstate: damaged.sqlite\nfeeds:\n  - {url: \"\(server.url("files/d.xml"))\", fulltext: never}\n".utf8)
            .write(to: URL(fileURLWithPath: config))
        let state = workspace.appendingPathComponent("damaged.sqlite")
        try Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }).write(to: state)
        for command in [["fetch", "--once"], ["status"], ["verify"], ["duplicates"]] {
            let run = try feedcorpus(command + ["--config", config])
            #expect(run.status == 3, "\(command): \(run.stderr)")
            #expect(run.stderr.contains("the state file \(state.path) is damaged"), "\(command): \(run.stderr)")
            #expect(run.stderr.contains("Restore the state file from a backup"))
            #expect(!run.stderr.contains("PRAGMA"))
        }
    }

    @Test func missingConfigExitsWith2() throws {
        let run = try feedcorpus(["fetch", "--once", "--config", workspace.appendingPathComponent("nope.yaml").path])
        #expect(run.status == 2)
        #expect(run.stderr.contains("cannot read the config file"))
    }

    @Test func okRunPrintsALinePerFeedAndATotal() throws {
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [
            FeedFixtures.Item(guid: "1", title: "One", paragraphs: ["First story."]),
            FeedFixtures.Item(guid: "2", title: "Two", paragraphs: ["Second story."]),
        ]))
        let path = try writeConfig(feeds: [(server.url("files/news.xml"), "news")])
        let run = try feedcorpus(["fetch", "--once", "--config", path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("ok         news: 2 entries, 2 new, 2 stored, 0 duplicates dropped"))
        #expect(run.stdout.contains("total: 1 feed (1 ok, 0 failed), 2 entries seen, 2 stories stored, 0 duplicates dropped"))
    }

    @Test func aFailedFeedExitsWith1AndIsListed() throws {
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [FeedFixtures.Item(guid: "1", title: "One", paragraphs: ["Body."])]))
        let path = try writeConfig(feeds: [(server.url("files/news.xml"), "good"), (server.url("status/404"), "gone")])
        let run = try feedcorpus(["fetch", "--once", "--config", path])
        #expect(run.status == 1)
        #expect(run.stdout.contains("FAILED     gone: HTTP 404"))
        #expect(run.stdout.contains("1 story stored"))
    }

    /// libxml2 prints errors that have no parser context (encoding conversion) to standard error
    /// unless told otherwise; the problem belongs in bozo_reason, not on the terminal or journal.
    @Test func aBadlyEncodedDocumentPrintsNothingFromLibxml2() throws {
        let path = workspace.appendingPathComponent("bad-encoding.xml")
        try Data(#"<?xml version="1.0" encoding="ISO-2022-JP"?>"#.utf8 + [0x0A] + Array(#"<rss version="2.0"><channel><title>"#.utf8)
                 + [0x9B, 0x9C, 0x20, 0x66] + Array("</title></channel></rss>".utf8)).write(to: path)
        let run = try feedcorpus(["parse", path.path])
        #expect(run.status == 0)
        #expect(run.stdout.contains(#""bozo" : true"#))
        #expect(run.stderr.isEmpty, "libxml2 wrote: \(run.stderr)")
    }

    @Test func parsePrintsTheJSONContract() throws {
        let file = workspace.appendingPathComponent("feed.xml")
        try Data(FeedFixtures.rss(title: "News", items: [FeedFixtures.Item(guid: "g", title: "T", paragraphs: ["P"])]).utf8).write(to: file)
        let run = try feedcorpus(["parse", file.path])
        #expect(run.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["format"] as? String == "rss20")
        #expect(object["bozo"] as? Bool == false)
        let entries = try #require(object["entries"] as? [[String: Any]])
        #expect(entries.first?["id"] as? String == "g")
        #expect(entries.first?["published"] as? String == "2024-11-04T12:00:00Z")
        #expect((object["feed"] as? [String: Any])?["title"] as? String == "News")
    }
}

extension CLITests {
    /// A feed of about 9 MB: `parse` maps such a file, readies its heap and lets the file's pages
    /// go as it reads (see ParseCommand); the output must not change.
    static func largeFeed(items: Int, bareAmpersandInItem: Int? = nil) -> String {
        let paragraph = String(repeating: "Words of a long story about caf\u{E9}s \u{2013} and more words. ", count: 40)
        var xml = #"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Large</title>"#
        for index in 0..<items {
            let title = index == bareAmpersandInItem ? "Fish & chips \(index)" : "Story \(index)"
            xml += "<item><title>\(title)</title><guid>id-\(index)</guid><content:encoded><![CDATA[<p>\(paragraph)</p>]]></content:encoded></item>\n"
        }
        return xml + "</channel></rss>\n"
    }

    /// The JSON is written by hand: quotes, backslashes and control characters must come back
    /// exactly through a JSON reader, and an empty list must still be a list.
    @Test func parseOfANonFeedStillPrintsTheContract() throws {
        let file = workspace.appendingPathComponent("nofeed.txt")
        try Data("just some text\n".utf8).write(to: file)
        let run = try feedcorpus(["parse", file.path])
        #expect(run.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)")
        #expect(object["format"] as? String == "unknown")
        #expect(object["bozo"] as? Bool == true)
        #expect((object["bozo_reason"] as? String)?.contains("not XML") == true)
        #expect((object["entries"] as? [Any])?.isEmpty == true)
        #expect(run.stderr.contains("not XML"))
    }

    @Test func parseResolvesRelativeLinksInMarkupAgainstTheBase() throws {
        let file = workspace.appendingPathComponent("relative.xml")
        try Data(#"<rss version="2.0"><channel><title>R</title><item><title>x</title><description>&lt;a href="/relative/uri"&gt;here&lt;/a&gt;</description></item></channel></rss>"#.utf8).write(to: file)
        let plain = try feedcorpus(["parse", file.path, "--base-url", "http://docs.example/feeds/r.xml"])
        #expect(plain.stdout.contains(#"<a href=\"http://docs.example/relative/uri\">here</a>"#), "\(plain.stdout)")
        let located = try feedcorpus(["parse", file.path, "--base-url", "http://docs.example/feeds/r.xml", "--content-location", "http://elsewhere.example/x/"])
        #expect(located.stdout.contains(#"<a href=\"http://elsewhere.example/relative/uri\">here</a>"#), "\(located.stdout)")
        // The feed's subtitle is markup too, its links resolved against its own xml:base.
        let atom = workspace.appendingPathComponent("subtitle.xml")
        try Data(#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><subtitle type="html" xml:base="http://base.example/s/">&lt;a href="more"&gt;About&lt;/a&gt;</subtitle></feed>"#.utf8).write(to: atom)
        let subtitle = try feedcorpus(["parse", atom.path, "--base-url", "http://docs.example/feeds/a.xml"])
        #expect(subtitle.stdout.contains(#""subtitle" : "<a href=\"http://base.example/s/more\">About</a>""#), "\(subtitle.stdout)")
    }

    @Test func parseEscapesWhatJSONRequires() throws {
        let file = workspace.appendingPathComponent("escapes.xml")
        try Data(("<rss version=\"2.0\"><channel><title>Say \"hi\" \\ back</title><item><guid>a/b</guid>"
            + "<description><![CDATA[line one\n\tline \"two\" <a href=\"x\">\\</a> caf\u{E9} \u{2028}]]></description></item></channel></rss>").utf8)
            .write(to: file)
        let run = try feedcorpus(["parse", file.path])
        #expect(run.status == 0)
        #expect(run.stdout.contains(#""id" : "a/b""#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect((object["feed"] as? [String: Any])?["title"] as? String == "Say \"hi\" \\ back")
        let entry = try #require((object["entries"] as? [[String: Any]])?.first)
        #expect(entry["summary"] as? String == "line one\n\tline \"two\" <a href=\"x\">\\</a> caf\u{E9} \u{2028}")
        #expect((entry["enclosures"] as? [Any])?.isEmpty == true)
        #expect(entry["published"] is NSNull)
    }

    /// Output that cannot be written (here a full device) is an error that says so, not a
    /// silent success.
    @Test func parseSaysWhenItsOutputCannotBeWritten() throws {
        let file = workspace.appendingPathComponent("small.xml")
        try Data(FeedFixtures.rss(title: "News", items: [FeedFixtures.Item(guid: "g", title: "T", paragraphs: ["P"])]).utf8).write(to: file)
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["parse", file.path]
        process.standardOutput = full
        let err = Pipe()
        process.standardError = err
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(stderr.contains("cannot write the output to standard output (No space left on device)"))
    }

    @Test func parseOfALargeFileGivesEveryEntry() throws {
        let count = 4000
        let file = workspace.appendingPathComponent("large.xml")
        try Data(Self.largeFeed(items: count).utf8).write(to: file)
        #expect(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int ?? 0 > 8 << 20)
        let stats = try Self.run(Self.benchBinary, ["parse", file.path])
        #expect(stats.status == 0)
        #expect(stats.stdout.contains("entries=\(count) bozo=false"))
        #expect(stats.stdout.contains("model_mb="))
        let run = try feedcorpus(["parse", file.path])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let entries = try #require(object["entries"] as? [[String: Any]])
        #expect(entries.count == count)
        #expect(entries.first?["title"] as? String == "Story 0")
        #expect(entries.last?["id"] as? String == "id-\(count - 1)")
        #expect((entries.last?["content"] as? String)?.contains("caf\u{E9}s \u{2013} and") == true)
    }

    /// A bare `&` near the end makes the parser read the whole document a second time, after the
    /// first pass has let the file's early pages go: they must come back intact.
    @Test func parseRereadsALargeFileAfterLettingItsPagesGo() throws {
        let count = 4000
        let file = workspace.appendingPathComponent("large-bozo.xml")
        try Data(Self.largeFeed(items: count, bareAmpersandInItem: count - 2).utf8).write(to: file)
        let run = try feedcorpus(["parse", file.path])
        #expect(run.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["bozo"] as? Bool == true)
        #expect((object["bozo_reason"] as? String)?.contains("bare '&'") == true)
        let entries = try #require(object["entries"] as? [[String: Any]])
        #expect(entries.count == count)
        #expect(entries.first?["title"] as? String == "Story 0")
        #expect(entries[count - 2]["title"] as? String == "Fish & chips \(count - 2)")
        #expect((entries.first?["content"] as? String)?.hasPrefix("<p>Words of a long story") == true)
    }

    @Test func duplicatesListsWhatWasDroppedAndWhy() throws {
        // Long enough (30 words or more) for the text alone to identify the story.
        let story = FeedFixtures.Item(guid: "1", title: "One", paragraphs: [
            "The same words in two feeds, about the council that approved the new bridge over the river on Tuesday night "
                + "after a long debate about its cost, the traffic it brings and the old town.",
        ])
        try server.put("a.xml", FeedFixtures.rss(title: "A", items: [story]))
        try server.put("b.xml", FeedFixtures.rss(title: "B", items: [FeedFixtures.Item(guid: "9", title: "Copy", paragraphs: story.paragraphs, link: "https://other.example/copy")]))
        let path = try writeConfig(feeds: [(server.url("files/a.xml"), "a")])
        #expect(try feedcorpus(["fetch", "--once", "--config", path]).status == 0)
        let both = try writeConfig(feeds: [(server.url("files/a.xml"), "a"), (server.url("files/b.xml"), "b")])
        #expect(try feedcorpus(["fetch", "--once", "--config", both]).status == 0)
        let text = try feedcorpus(["duplicates", "--config", both])
        #expect(text.status == 0)
        #expect(text.stdout.contains("same_text  Copy"))
        #expect(text.stdout.contains("1 duplicate"))
        let json = try feedcorpus(["duplicates", "--config", both, "--json", "--since", "2000-01-01"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["reason"] as? String == "same_text")
        #expect((object["duplicate_of"] as? String)?.hasSuffix(".txt") == true)
        #expect(try feedcorpus(["duplicates", "--config", both, "--since", "2999-01-01"]).stdout.contains("0 duplicates"))
        // The kept story's headline is shown next to the dropped one's.
        #expect(text.stdout.contains("    duplicates 20") && text.stdout.contains(".txt  One\n"), "\(text.stdout)")
        #expect(object["duplicate_of_title"] as? String == "One")
        // Relative times.
        #expect(try feedcorpus(["duplicates", "--config", both, "--since", "24h"]).stdout.contains("1 duplicate"))
        #expect(try feedcorpus(["duplicates", "--config", both, "--since", "yesterday"]).stdout.contains("1 duplicate"))
        let bad = try feedcorpus(["duplicates", "--config", both, "--since", "last tuesday"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("a time ago like 24h or 7d"))
    }
}

extension CLITests {
    @Test func extractPrintsTheCorpusFormatOrTheJSONContract() throws {
        let page = workspace.appendingPathComponent("page.html")
        try Data("""
            <html lang="en"><head><title>Council approves bridge | City News</title>
            <meta property="article:published_time" content="2024-11-04T08:30:00Z">
            <link rel="canonical" href="/2024/bridge"></head>
            <body><nav><a href="/">Home</a></nav><article><h1>Council approves bridge</h1>
            <p>The city council approved the new bridge on Monday, ending a three-year debate.</p>
            <p>Construction will begin in the spring, the mayor said, with opening set for 2027.</p>
            <div class="share">Share this article</div></article></body></html>
            """.utf8).write(to: page)
        let plain = try feedcorpus(["extract", page.path])
        #expect(plain.status == 0)
        #expect(plain.stdout == """
            Council approves bridge
            The city council approved the new bridge on Monday, ending a three-year debate.
            Construction will begin in the spring, the mayor said, with opening set for 2027.

            """)
        let json = try feedcorpus(["extract", "--json", "--url", "https://city.example/news/x", page.path])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["title", "text", "author", "published", "language", "canonical_url"])
        #expect(object["title"] as? String == "Council approves bridge")
        #expect(object["text"] as? String == "The city council approved the new bridge on Monday, ending a three-year debate.\nConstruction will begin in the spring, the mayor said, with opening set for 2027.")
        #expect(object["author"] is NSNull)
        #expect(object["published"] as? String == "2024-11-04T08:30:00Z")
        #expect(object["language"] as? String == "en")
        #expect(object["canonical_url"] as? String == "https://city.example/2024/bridge")

        let missing = try feedcorpus(["extract", workspace.appendingPathComponent("nope.html").path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot read"))
    }

    @Test func noProgressBarWhenOutputIsNotATerminal() throws {
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [FeedFixtures.Item(guid: "1", title: "One", paragraphs: ["Body."])]))
        let path = try writeConfig(feeds: [(server.url("files/news.xml"), "news")])
        let run = try feedcorpus(["fetch", "--once", "--config", path])
        #expect(run.status == 0)
        #expect(!run.stderr.contains("\r") && !run.stderr.contains("feeds,"))
        #expect(!run.stdout.contains("\r"))
    }

    @Test func unknownFeedNameIsAUsageError() throws {
        let path = try writeConfig("feeds: []\n")
        let run = try feedcorpus(["fetch", "--once", "--config", path, "--feed", "nope"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("nope"))
    }
}

extension CLITests {
    @Test func statusShowsEachFeedAndTotals() throws {
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [FeedFixtures.Item(guid: "1", title: "One", paragraphs: ["Body one."])]))
        let path = try writeConfig(feeds: [(server.url("files/news.xml"), "news"), (server.url("status/500"), "broken")])
        #expect(try feedcorpus(["fetch", "--once", "--config", path]).status == 1)
        let text = try feedcorpus(["status", "--config", path])
        #expect(text.status == 0)
        #expect(text.stdout.contains("news  \(server.url("files/news.xml"))"))
        #expect(text.stdout.contains("FAILING (1 in a row): HTTP 500"))
        #expect(text.stdout.contains("total: 2 feeds, 1 stories stored, 0 duplicates dropped, 1 failing, 0 disabled"))
        let json = try feedcorpus(["status", "--config", path, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let feeds = try #require(object["feeds"] as? [[String: Any]])
        #expect(feeds.map { $0["name"] as? String } == ["news", "broken"])
        #expect(feeds[0]["stories_stored"] as? Int == 1)
        #expect(feeds[0]["next_due"] as? String != nil)
        #expect(feeds[1]["consecutive_errors"] as? Int == 1)
        #expect((object["totals"] as? [String: Any])?["failing"] as? Int == 1)

        // --feed and --failing select rows; the totals still count every feed.
        let one = try feedcorpus(["status", "--config", path, "--feed", "news"])
        #expect(one.stdout.contains("news  ") && !one.stdout.contains("broken  "))
        let failingOnly = try feedcorpus(["status", "--config", path, "--failing"])
        #expect(failingOnly.stdout.contains("broken  ") && !failingOnly.stdout.contains("news  "))
        #expect(failingOnly.stdout.contains("total: 2 feeds"))
        #expect(try feedcorpus(["status", "--config", path, "--feed", "nope"]).status == 2)
        // A feed disabled by 410 counts as disabled, not also as failing.
        let gone = try writeConfig(feeds: [(server.url("files/news.xml"), "news"), (server.url("status/410"), "gone")])
        _ = try feedcorpus(["fetch", "--once", "--config", gone])
        let goneJSON = try feedcorpus(["status", "--config", gone, "--json"])
        let totals = try #require((try JSONSerialization.jsonObject(with: Data(goneJSON.stdout.utf8)) as? [String: Any])?["totals"] as? [String: Any])
        #expect(totals["disabled"] as? Int == 1)
        #expect(totals["failing"] as? Int == 1, "\(totals)")  // only `broken`, still in the state
    }

    @Test func fetchStopsCleanlyOnSIGTERMAndPrintsTheTotal() throws {
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [FeedFixtures.Item(guid: "1", title: "One", paragraphs: ["Body one."])]))
        let path = try writeConfig(feeds: [(server.url("files/news.xml"), "quick"), (server.url("slow/60/news.xml"), "slow")])
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["fetch", "--once", "--config", path, "--grace", "1"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Once the quick feed is reported, the slow one is in flight: stop.
        var text = ""
        while !text.contains("ok         quick") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let stopped = Date()
        kill(process.processIdentifier, SIGTERM)
        text += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "killed by the signal instead of stopping")
        #expect(Date().timeIntervalSince(stopped) < 30)
        #expect(text.contains("total: ") && text.contains("(stopped by a signal; the remaining feeds are polled next time)"), "\(text)")
        #expect(try feedcorpus(["verify", "--config", path]).status == 0)
    }

    @Test func withoutATerminalFetchLogsProgressAndAFailingHookFailsTheRun() throws {
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [FeedFixtures.Item(guid: "1", title: "One", paragraphs: ["Body one."])]))
        let path = try writeConfig("corpus: corpus\nstate: state/feedcorpus.sqlite\nfetch: {host_delay: 0}\non_new_stories: \"exit 7\"\nfeeds:\n"
            + "  - {url: \"\(server.url("slow/7/news.xml"))\", name: slow, fulltext: never}\n")
        let run = try feedcorpus(["fetch", "--once", "--config", path, "--log-level", "info", "--log-format", "text"])
        #expect(run.stderr.contains("info progress feeds_done=\"0 of 1\""), "\(run.stderr)")
        #expect(run.stderr.contains("requests_waiting_on_hosts="))
        #expect(run.stdout.contains("1 story stored"))
        #expect(run.status == 1)  // the hook failed
        #expect(run.stderr.contains("on_new_stories failed"))
    }

    @Test func underTheJournalAFailureIsReportedOnce() throws {
        let path = try writeConfig(feeds: [(server.url("status/500"), "broken")])
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["fetch", "--once", "--config", path]
        var environment = ProcessInfo.processInfo.environment
        environment["JOURNAL_STREAM"] = "8:12345"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(!stdout.contains("FAILED"), "\(stdout)")
        #expect(stderr.contains("<3>feed failed") && stderr.contains("HTTP 500"), "\(stderr)")
        #expect(stdout.contains("1 failed"))
    }

    @Test func checkFindsWhatWouldStopARunWithoutFetching() throws {
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [FeedFixtures.Item(guid: "1", title: "One", paragraphs: ["Body one."])]))
        let hooks = workspace.appendingPathComponent("hooks")
        try FileManager.default.createDirectory(at: hooks, withIntermediateDirectories: true)
        try Data("#!/bin/sh\n".utf8).write(to: hooks.appendingPathComponent("ok.sh"))
        #expect(chmod(hooks.appendingPathComponent("ok.sh").path, 0o755) == 0)
        func config(hook: String, textfile: String = "", corpus: String = "corpus") throws -> String {
            try writeConfig("corpus: \(corpus)\nstate: state/feedcorpus.sqlite\non_new_stories: \"\(hook)\"\n\(textfile)feeds:\n"
                + "  - {url: \"\(server.url("files/news.xml"))\", name: news}\n")
        }
        let good = try feedcorpus(["check", "--config", try config(hook: "hooks/ok.sh")])
        #expect(good.status == 0, "\(good.stdout)")
        #expect(good.stdout.contains("ok      on_new_stories: hooks/ok.sh found") && good.stdout.contains("all checks passed"))
        #expect(server.requestedPaths().isEmpty)  // nothing fetched

        let bad = try feedcorpus(["check", "--config", try config(hook: "hooks/missing.sh", textfile: "metrics: {textfile: nowhere/f.prom}\n")])
        #expect(bad.status == 2)
        #expect(bad.stdout.contains("PROBLEM on_new_stories: the program 'hooks/missing.sh' is not found"), "\(bad.stdout)")
        #expect(bad.stdout.contains("PROBLEM metrics.textfile: the folder"))
        #expect(bad.stdout.contains("2 problems to fix before a run"))

        // A corpus another state wrote.
        let path = try config(hook: "hooks/ok.sh")
        #expect(try feedcorpus(["fetch", "--once", "--config", path]).status == 0)
        try FileManager.default.removeItem(at: workspace.appendingPathComponent("state"))
        let other = try feedcorpus(["check", "--config", path])
        #expect(other.status == 2)
        #expect(other.stdout.contains("PROBLEM corpus: ") && other.stdout.contains("was written by another state file"), "\(other.stdout)")

        let broken = try feedcorpus(["check", "--config", try writeConfig("corpus: corpus\nlayout: hourly\nfeeds: []\n")])
        #expect(broken.status == 2)
        #expect(broken.stdout.contains("PROBLEM config: ") && broken.stdout.contains(":2: layout"))
    }

    @Test func importOPMLPrintsEntriesThatAppendToAConfig() throws {
        let opml = workspace.appendingPathComponent("subs.opml")
        try Data(#"<opml version="2.0"><body><outline title="One" xmlUrl="https://one.example/rss"/><outline title="Local" xmlUrl="../../etc/hostname"/><outline text="Tech"><outline title="Two" xmlUrl="http://two.example/atom"/></outline></body></opml>"#.utf8).write(to: opml)
        let run = try feedcorpus(["import-opml", opml.path])
        #expect(run.status == 0)
        #expect(!run.stdout.contains("feeds:\n") && !run.stdout.hasPrefix("feeds:"), "\(run.stdout)")
        #expect(run.stderr.contains("skipped '../../etc/hostname': an OPML file may add only http and https feeds"), "\(run.stderr)")
        // Appended to a config whose `feeds:` is last, the output loads: a duplicate key would not.
        let path = try writeConfig("corpus: corpus\nstate: s.sqlite\nfeeds:\n  - {url: \"https://zero.example/rss\", name: zero}\n" + run.stdout)
        let check = try feedcorpus(["check", "--config", path])
        #expect(check.stdout.contains("ok      config: \(path): 3 feeds"), "\(check.stdout)")
    }

    @Test func addFindsTheFeedOfASitesPageOrAtTheUsualPlace() throws {
        let feed = FeedFixtures.rss(title: "City News", items: [FeedFixtures.Item(guid: "1", title: "One", paragraphs: ["Body one."])])
        try server.put("feed.xml", feed)
        try server.put("page.html", "<html><head><title>City</title><link rel=\"alternate\" type=\"application/rss+xml\" href=\"feed.xml\"></head><body>Hi</body></html>")
        let path = try writeConfig(feeds: [])
        let fromPage = try feedcorpus(["add", server.url("files/page.html"), "--config", path])
        #expect(fromPage.status == 0, "\(fromPage.stderr)")
        #expect(fromPage.stderr.contains("found: City News, rss20, 1 entries: \(server.url("files/feed.xml"))"), "\(fromPage.stderr)")
        #expect(fromPage.stdout.contains("  - url: \"\(server.url("files/feed.xml"))\"\n    name: \"City News\""), "\(fromPage.stdout)")
        // The printed lines are a valid entry: appended under `feeds:` they load.
        let appended = try writeConfig("corpus: corpus\nstate: s.sqlite\nfeeds:\n" + fromPage.stdout)
        #expect(try feedcorpus(["check", "--config", appended]).stdout.contains("ok      config: \(appended): 1 feed"))

        // A feed URL is taken as it is; a page without links is tried at the usual places.
        #expect(try feedcorpus(["add", server.url("files/feed.xml"), "--name", "city", "--config", path]).stdout.contains("    name: \"city\""))
        try FileManager.default.createDirectory(at: server.root.appendingPathComponent("site"), withIntermediateDirectories: true)
        try Data(feed.utf8).write(to: server.root.appendingPathComponent("site/rss.xml"))
        try Data("<html><body>No links here</body></html>".utf8).write(to: server.root.appendingPathComponent("site/home.html"))
        let usual = try feedcorpus(["add", server.url("home.html"), "--config", path])
        #expect(usual.stdout.contains("  - url: \"\(server.url("rss.xml"))\""), "\(usual.stdout) \(usual.stderr)")
        let none = try feedcorpus(["add", server.url("files/nothing.html"), "--config", path])
        #expect(none.status == 1)
        #expect(none.stderr.contains("no feed found at"))
    }

    @Test func statusShowsARunInProgressAndHostsOnHold() async throws {
        try server.put("news.xml", FeedFixtures.rss(title: "News", items: [FeedFixtures.Item(guid: "1", title: "One", paragraphs: ["Body one."])]))
        _ = try writeConfig(feeds: [(server.url("retry/429/3600"), "limited")])
        #expect(try feedcorpus(["fetch", "--once", "--config", workspace.appendingPathComponent("feedcorpus.yaml").path]).status == 1)
        // Another feed on the held host only waits: not a failure, exit 0.
        let path = try writeConfig(feeds: [(server.url("retry/429/3600"), "limited"), (server.url("slow/30/news.xml"), "slow")])
        let first = try feedcorpus(["fetch", "--once", "--config", path])
        #expect(first.status == 0, "\(first.stdout)")
        #expect(first.stdout.contains("skipped    slow: waiting: "), "\(first.stdout)")
        let held = try feedcorpus(["status", "--config", path])
        #expect(held.stdout.contains("host 127.0.0.1 is on hold until"), "\(held.stdout)")
        #expect(!held.stdout.contains("a run is in progress"))

        // While a fetch runs, status names it (another state, which knows no hold).
        let other = try writeConfig("corpus: running-corpus\nstate: running.sqlite\nfetch: {host_delay: 0}\nfeeds:\n"
            + "  - {url: \"\(server.url("slow/20/news.xml"))\", name: slow, fulltext: never}\n", file: "running.yaml")
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["fetch", "--once", "--config", other]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        // The fetch holds the lock from its start; status reads it from the lock file.
        var during = try feedcorpus(["status", "--config", other])
        for _ in 0..<100 where !during.stdout.contains("a run is in progress") {
            during = try feedcorpus(["status", "--config", other])
        }
        #expect(during.stdout.contains("a run is in progress: pid \(process.processIdentifier)"), "\(during.stdout)")
    }
}
