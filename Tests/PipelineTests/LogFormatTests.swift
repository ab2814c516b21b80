import Foundation
import Logging
import Pipeline
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

    @Test func journalIsChosenUnderSystemd() {
        #expect(LogFormat.automatic(environment: ["JOURNAL_STREAM": "8:12345"]) == .journal)
        #expect(LogFormat.automatic(environment: [:]) == .text)
    }
}
