import FeedModel
import Foundation
import Logging
import FeedDaemon
import Testing

@Suite struct LogFormatTests {
    let date = Date(timeIntervalSince1970: 1_730_721_600)

    @Test func journalLinesCarryThePriorityAndNoTimestamp() {
        let line = FeedCorpusLogHandler.line(format: .journal, level: .warning, message: "malformed feed",
                                             metadata: ["feed": "news", "reason": "line 3: bad"], label: "feedcorpus", date: date)
        #expect(line == "<4>malformed feed feed=news reason=\"line 3: bad\"\n")
        #expect(FeedCorpusLogHandler.line(format: .journal, level: .error, message: "x", metadata: [:], label: "l", date: date) == "<3>x\n")
    }

    @Test func textLinesHaveATimestamp() {
        let line = FeedCorpusLogHandler.line(format: .text, level: .info, message: "pass finished", metadata: [:], label: "l", date: date)
        #expect(line == "2024-11-04T12:00:00Z info pass finished\n")
    }

    @Test func jsonLinesAreOneObject() throws {
        let line = FeedCorpusLogHandler.line(format: .json, level: .error, message: "feed failed", metadata: ["feed": "news"], label: "feedcorpus", date: date)
        #expect(line.hasSuffix("\n") && line.dropLast().contains("\n") == false)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object == ["time": "2024-11-04T12:00:00Z", "level": "error", "message": "feed failed", "logger": "feedcorpus", "feed": "news"])
    }

    @Test func aFeedSuppliedNewlineCannotForgeALogLine() {
        let forged = "Title\n2024-11-04T12:00:00Z error feed failed feed=bank\u{1B}[31m"
        for format in [LogFormat.text, .journal] {
            let line = FeedCorpusLogHandler.line(format: format, level: .info, message: "stored \(forged)",
                                                 metadata: ["title": "\(forged)"], label: "l", date: date)
            #expect(line.filter { $0 == "\n" }.count == 1 && line.hasSuffix("\n"), "\(line)")
            #expect(!line.contains("\u{1B}"))
            #expect(line.contains("Title\\n2024-11-04T12:00:00Z error") && line.contains("\\u{1B}[31m"), "\(line)")
        }
    }

    @Test func credentialsInURLsNeverReachALogLine() throws {
        let message = "HTTP 404 from https://reader:s3cret@news.example/feed.xml: the feed is not at this URL"
        for format in [LogFormat.text, .journal, .json] {
            let line = FeedCorpusLogHandler.line(format: format, level: .error, message: message,
                                                 metadata: ["url": "https://reader:s3cret@news.example/feed.xml"], label: "l", date: date)
            #expect(!line.contains("s3cret") && !line.contains("reader:"), "\(line)")
            #expect(line.contains("https://news.example/feed.xml"), "\(line)")
        }
    }

    @Test func urlCredentialsAreStrippedAndNothingElse() {
        #expect(URLCredentials.stripped("https://u:p@a.example:8443/x?y=@z#f") == "https://a.example:8443/x?y=@z#f")
        #expect(URLCredentials.stripped("https://a.example/x@y") == "https://a.example/x@y")
        #expect(URLCredentials.stripped("file:///tmp/a@b.rss") == "file:///tmp/a@b.rss")
        #expect(URLCredentials.strippedInText("at http://a:b@h1/ and (https://c@h2) mail me@home") == "at http://h1/ and (https://h2) mail me@home")
        #expect(LogText.escaped("plain ünïcode – text") == "plain ünïcode – text")
        #expect(LogText.escaped("a\u{2028}b\u{202E}c\td") == "a\\u{2028}b\\u{202E}c\\td")
    }

    @Test func journalIsChosenUnderSystemd() {
        #expect(LogFormat.automatic(environment: ["JOURNAL_STREAM": "8:12345"]) == .journal)
        #expect(LogFormat.automatic(environment: [:]) == .text)
    }
}
