import CorpusWriter
import Dedupe
import FeedModel
import Foundation
import Testing

func makeFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func pending(_ headline: String, _ paragraphs: [String], feed: String = "test") -> PendingStory {
    let text = StoryText(headline: headline, paragraphs: paragraphs)
    let fingerprint = TextFingerprint(story: text)
    return PendingStory(
        text: text,
        record: StoryRecord(file: "", sha256: fingerprint.sha256, simhash: fingerprint.simhashHex, url: "https://news.example/\(headline.hashValue)",
                            feed: feed, feedURL: "https://news.example/rss", entryID: "id-\(headline)", title: text.headline,
                            published: nil, fetched: Date(timeIntervalSince1970: 1_730_721_600), language: "en", textSource: .feed),
        nameTail: fingerprint.nameTail)
}

let nov4 = Date(timeIntervalSince1970: 1_730_721_600)  // 2024-11-04T12:00:00Z

@Suite struct StoryTextTests {
    @Test func fileFormatIsHeadlineThenOneParagraphPerLineWithFinalNewline() {
        let story = StoryText(headline: "  Head\nline ", paragraphs: ["First\r\nparagraph  here.", "", "  ", "Second."])
        #expect(story.fileContents == "Head line\nFirst paragraph here.\nSecond.\n")
    }

    @Test func textIsNFC() {
        let decomposed = "Cafe\u{301}"  // e + combining acute
        let story = StoryText(headline: decomposed, paragraphs: [decomposed])
        #expect(Array(story.fileContents.unicodeScalars).contains("\u{E9}"))
        #expect(!Array(story.fileContents.unicodeScalars).contains("\u{301}"))
    }

    @Test func controlCharactersAreDropped() {
        let story = StoryText(headline: "A\u{0}B\u{7}C", paragraphs: ["x\u{FEFF}y"])
        #expect(story.fileContents == "ABC\nx y\n")
    }

    @Test func roundTripsThroughFileContents() {
        let story = StoryText(headline: "H", paragraphs: ["p1", "p2"])
        #expect(StoryText(fileContents: story.fileContents) == story)
    }
}

@Suite struct CorpusWriterTests {
    @Test func writesNamedFilesIntoTheDayFolderWithAManifest() throws {
        let root = try makeFolder()
        let writer = try CorpusWriter(root: root.path, layout: .daily)
        let stories = [pending("One", ["Alpha."]), pending("Two", ["Beta.", "Gamma."])]
        let records = try writer.write(stories, fetched: nov4)
        #expect(records.map(\.file) == [
            "2024-11-04/000_\(stories[0].nameTail).txt",
            "2024-11-04/001_\(stories[1].nameTail).txt",
        ])
        let second = try String(contentsOf: root.appendingPathComponent(records[1].file), encoding: .utf8)
        #expect(second == "Two\nBeta.\nGamma.\n")
        let manifest = try String(contentsOf: root.appendingPathComponent("2024-11-04/manifest.jsonl"), encoding: .utf8)
        let lines = manifest.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(manifest.hasSuffix("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(object["file"] as? String == records[1].file)
        #expect(object["sha256"] as? String == stories[1].record.sha256)
        for key in ["simhash", "url", "feed", "title", "published", "fetched", "language", "duplicate_of", "event", "text_source"] {
            #expect(object.keys.contains(key), "manifest line lacks \(key)")
        }
        #expect(object["fetched"] as? String == "2024-11-04T12:00:00Z")
        let names = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("2024-11-04").path)
        #expect(names.allSatisfy { !$0.hasPrefix(".tmp-") })
    }

    @Test func numberingContinuesAcrossWritersAndDays() throws {
        let root = try makeFolder()
        _ = try CorpusWriter(root: root.path, layout: .daily).write([pending("One", ["a"]), pending("Two", ["b"])], fetched: nov4)
        let reopened = try CorpusWriter(root: root.path, layout: .daily)
        let third = try reopened.write([pending("Three", ["c"])], fetched: nov4)
        #expect(third.first?.file.hasPrefix("2024-11-04/002_") == true)
        let nextDay = try reopened.write([pending("Four", ["d"])], fetched: nov4.addingTimeInterval(86_400))
        #expect(nextDay.first?.file.hasPrefix("2024-11-05/000_") == true)
    }

    @Test func flatLayoutPutsEverythingInTheRoot() throws {
        let root = try makeFolder()
        let records = try CorpusWriter(root: root.path, layout: .flat).write([pending("One", ["a"])], fetched: nov4)
        #expect(records.first?.file.hasPrefix("000_") == true)
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("manifest.jsonl").path))
    }

    @Test func storyFileNamesFollowTheContract() {
        #expect(CorpusWriter.isStoryFileName("000_7e39f8ebbce6b66f.txt"))
        #expect(CorpusWriter.isStoryFileName("1234_7e39f8ebbce6b66f.txt"))
        #expect(!CorpusWriter.isStoryFileName("00_7e39f8ebbce6b66f.txt"))
        #expect(!CorpusWriter.isStoryFileName("000_7E39F8EBBCE6B66F.txt"))
        #expect(!CorpusWriter.isStoryFileName("000_7e39f8ebbce6b66.txt"))
        #expect(!CorpusWriter.isStoryFileName("manifest.jsonl"))
    }

    @Test func reconcileQuarantinesCrashDebrisAndRepairsTheManifest() throws {
        let root = try makeFolder()
        let writer = try CorpusWriter(root: root.path, layout: .daily)
        let kept = try writer.write([pending("Kept", ["k"])], fetched: nov4)
        let orphan = try writer.write([pending("Orphan", ["o"])], fetched: nov4)  // state never committed
        let day = root.appendingPathComponent("2024-11-04")
        try Data("partial".utf8).write(to: day.appendingPathComponent(".tmp-002_0000000000000000.txt"))
        // A torn last manifest line.
        let handle = try FileHandle(forWritingTo: day.appendingPathComponent("manifest.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"file":"2024-11-04/00"#.utf8))
        try handle.close()

        let known = [kept[0].file: try kept[0].jsonLine()]
        let quarantine = try makeFolder().path
        let report = try writer.reconcile(known: known, quarantine: quarantine)
        #expect(report.removedTemporaryFiles == ["2024-11-04/.tmp-002_0000000000000000.txt"])
        #expect(report.quarantinedFiles == [orphan[0].file])
        #expect(report.repairedManifests == ["2024-11-04/manifest.jsonl"])
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(orphan[0].file).path))
        // Moved, never deleted.
        let moved = try String(contentsOfFile: quarantine + "/" + orphan[0].file, encoding: .utf8)
        #expect(moved.hasPrefix("Orphan\n"))
        let manifest = try String(contentsOf: day.appendingPathComponent("manifest.jsonl"), encoding: .utf8)
        #expect(manifest == (try kept[0].jsonLine()) + "\n")
        // The freed number is used again.
        let next = try writer.write([pending("Next", ["n"])], fetched: nov4)
        #expect(next.first?.file.hasPrefix("2024-11-04/001_") == true)
        #expect(try writer.reconcile(known: known.merging([next[0].file: try next[0].jsonLine()]) { a, _ in a }, quarantine: quarantine).isClean)
    }

    @Test func writesNeverFollowALinkInTheCorpus() throws {
        let root = try makeFolder()
        let writer = try CorpusWriter(root: root.path, layout: .daily)
        _ = try writer.write([pending("First", ["f"])], fetched: nov4)
        let outside = try makeFolder()
        let target = outside.appendingPathComponent("target.txt")
        try Data("outside\n".utf8).write(to: target)
        let manifest = root.appendingPathComponent("2024-11-04/manifest.jsonl")
        try FileManager.default.removeItem(at: manifest)
        try FileManager.default.createSymbolicLink(at: manifest, withDestinationURL: target)
        #expect(throws: CorpusWriteError.self) { _ = try writer.write([pending("Second", ["s"])], fetched: nov4) }
        do {
            _ = try writer.write([pending("Second", ["s"])], fetched: nov4)
        } catch {
            #expect(error.description.contains("symbolic link"), "\(error)")
        }
        #expect(try String(contentsOf: target, encoding: .utf8) == "outside\n")
        // The failed batch left no story file behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("2024-11-04").path).filter { $0.hasSuffix(".txt") }.count == 1)

        // A day folder that is a link to elsewhere is refused too.
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("2024-11-05"), withDestinationURL: outside)
        #expect(throws: CorpusWriteError.self) { _ = try writer.write([pending("Third", ["t"])], fetched: nov4.addingTimeInterval(86_400)) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path) == ["target.txt"])
    }

    @Test func reconcileRestoresAManifestLineTheStateHas() throws {
        let root = try makeFolder()
        let writer = try CorpusWriter(root: root.path, layout: .daily)
        let records = try writer.write([pending("One", ["a"])], fetched: nov4)
        let manifest = root.appendingPathComponent("2024-11-04/manifest.jsonl")
        try Data().write(to: manifest)
        let report = try writer.reconcile(known: [records[0].file: try records[0].jsonLine()], quarantine: try makeFolder().path)
        #expect(report.repairedManifests.count == 1)
        #expect(try String(contentsOf: manifest, encoding: .utf8) == (try records[0].jsonLine()) + "\n")
    }

    @Test func failedWriteLeavesNothingBehind() throws {
        let root = try makeFolder()
        let writer = try CorpusWriter(root: root.path, layout: .daily)
        _ = try writer.write([pending("One", ["a"])], fetched: nov4)
        let day = root.appendingPathComponent("2024-11-04")
        // Make the manifest impossible to open for appending: a folder in its place.
        let manifest = day.appendingPathComponent("manifest.jsonl")
        let saved = try Data(contentsOf: manifest)
        try FileManager.default.removeItem(at: manifest)
        try FileManager.default.createDirectory(at: manifest, withIntermediateDirectories: false)
        #expect(throws: CorpusWriteError.self) {
            _ = try writer.write([pending("Two", ["b"]), pending("Three", ["c"])], fetched: nov4)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: day.path).sorted()
        #expect(names.filter { $0.hasSuffix(".txt") }.count == 1)
        #expect(names.allSatisfy { !$0.hasPrefix(".tmp-") })
        try FileManager.default.removeItem(at: manifest)
        try saved.write(to: manifest)
        let retry = try writer.write([pending("Two", ["b"])], fetched: nov4)
        #expect(retry.first?.file.hasPrefix("2024-11-04/001_") == true)
    }
}

@Suite struct LanguageTagTests {
    @Test(arguments: [
        ("en-us", "en-US"), ("EN_us", "en-US"), ("de", "de"), ("zh-hant-tw", "zh-Hant-TW"), ("es-419", "es-419"),
        ("sr-latn-rs", "sr-Latn-RS"), ("en-US-x-Twain", "en-US-x-twain"), (" fr-ca ", "fr-CA"),
    ])
    func tagsGetTheirConventionalCase(_ input: String, _ expected: String) {
        #expect(LanguageTag.normalized(input) == expected)
    }

    @Test func malformedTagsAreDropped() {
        for bad in ["", "-", "en--us", "english language", "en-toolongsubtag", "ελ"] { #expect(LanguageTag.normalized(bad) == nil, "\(bad)") }
    }

    @Test func theManifestCarriesTheNormalisedTag() throws {
        let record = StoryRecord(file: "x", sha256: "0", simhash: "0", url: nil, feed: "f", feedURL: "u", entryID: nil, title: "t",
                                 published: nil, fetched: Date(timeIntervalSince1970: 0), language: "en-gb", textSource: .feed)
        #expect(try record.jsonLine().contains(#""language":"en-GB""#))
    }
}
