@testable import Dedupe
@testable import FeedModel
import Foundation
import TestSupport
import Testing

extension StoryGenerator {
    /// A story of `paragraphs` paragraphs as the corpus holds it.
    mutating func story(paragraphs: Int = 8) -> StoryText {
        let parts = storyParts(paragraphs: paragraphs)
        return StoryText(headline: parts.headline, paragraphs: parts.paragraphs)
    }
}

@Suite struct DeduplicatorTests {
    /// An in-memory stand-in for the state's exact-key lookups (the pipeline tests use SQLite).
    final class Lookup: StoredStoryLookup {
        var stories: [(ref: StoredStoryRef, story: IncomingStory)] = []
        func story(url: String) -> StoredStoryRef? { stories.first { $0.story.urls.contains(url) }?.ref }
        func story(entryID: String) -> StoredStoryRef? { stories.first { $0.story.globalID == entryID }?.ref }
        func story(sha256: String) -> StoredStoryRef? { stories.first { $0.story.fingerprint.sha256 == sha256 }?.ref }
        func story(id: Int64) -> StoredStoryRef? { stories.first { $0.ref.id == id }?.ref }
        func text(of story: StoredStoryRef) -> StoryText? {
            stories.first { $0.ref == story }?.story.text
        }
        func fileSize(of story: StoredStoryRef) -> Int? {
            stories.first { $0.ref == story }.map { $0.story.text.fileContents.utf8.count }
        }
    }

    let day = Date(timeIntervalSince1970: 1_730_721_600)

    func incoming(_ text: StoryText, url: String) -> IncomingStory {
        IncomingStory(text: text, urls: [url], globalID: nil, at: day)
    }

    /// Decides and, when stored, accepts and commits one story at a time (as one-story batches).
    func ingest(_ stories: [IncomingStory], into deduplicator: inout Deduplicator, lookup: Lookup) throws -> [DedupeDecision] {
        var decisions: [DedupeDecision] = []
        for story in stories {
            let decision = try deduplicator.decide(story, lookup: lookup)
            if case let .store(event, _) = decision {
                deduplicator.accept(story, event: event)
                let id = Int64(lookup.stories.count + 1)
                deduplicator.commit(ids: [id])
                lookup.stories.append((StoredStoryRef(id: id, file: "f\(id).txt"), story))
            }
            decisions.append(decision)
        }
        return decisions
    }

    @Test func simhashBitsStayBalancedOverThousandsOfUnrelatedStories() {
        var generator = StoryGenerator(seed: 7)
        let hashes = (0..<3000).map { _ in TextFingerprint(story: generator.story(paragraphs: 4)).simhash }
        for bit in 0..<64 {
            let share = Double(hashes.filter { $0 >> UInt64(bit) & 1 == 1 }.count) / Double(hashes.count)
            #expect((0.35...0.65).contains(share), "bit \(bit) is 1 in \(share) of the stories")
        }
        // Unrelated stories sit about 32 bits apart, never within a few bits.
        let distances = (0..<2999).map { SimHash.distance(hashes[$0], hashes[$0 + 1]) }
        #expect(distances.min() ?? 0 > 12)
        #expect(abs(Double(distances.reduce(0, +)) / Double(distances.count) - 32) < 2)
    }

    @Test func thousandsOfDistinctStoriesAreAllStoredAndCopiesDropped() throws {
        var generator = StoryGenerator(seed: 11)
        var deduplicator = Deduplicator(rule: NearDuplicateRule(), stored: [], events: EventGrouper())
        let lookup = Lookup()
        let originals = (0..<2000).map { index in incoming(generator.story(), url: "https://a.example/\(index)") }
        let decisions = try ingest(originals, into: &deduplicator, lookup: lookup)
        #expect(decisions.filter { if case .store = $0 { return true } else { return false } }.count == 2000)
        // Copies of every tenth story: one word inserted, a credit line appended, another URL.
        var copies: [IncomingStory] = []
        for index in stride(from: 0, to: 2000, by: 10) {
            var text = originals[index].text
            text.paragraphs[3] = "Reportedly " + text.paragraphs[3]
            text.paragraphs.append("(Reporting by a wire desk; editing by another)")
            copies.append(incoming(text, url: "https://copy.example/\(index)"))
        }
        let copyDecisions = try ingest(copies, into: &deduplicator, lookup: lookup)
        for (offset, decision) in copyDecisions.enumerated() {
            guard case let .duplicate(reason, .stored(of), near) = decision else {
                Issue.record("copy of story \(offset * 10) was not dropped: \(decision)")
                continue
            }
            #expect(reason == .nearText)
            #expect(of.id == Int64(offset * 10 + 1))
            #expect((near?.jaccard ?? 0) >= 0.6)
        }
    }

    /// A lookup that notes whose texts are read.
    final class RecordingLookup: StoredStoryLookup {
        let inner: Lookup
        var textsRead: Set<Int64> = []
        init(_ inner: Lookup) { self.inner = inner }
        func story(url: String) -> StoredStoryRef? { inner.story(url: url) }
        func story(entryID: String) -> StoredStoryRef? { inner.story(entryID: entryID) }
        func story(sha256: String) -> StoredStoryRef? { inner.story(sha256: sha256) }
        func story(id: Int64) -> StoredStoryRef? { inner.story(id: id) }
        func fileSize(of story: StoredStoryRef) -> Int? { inner.fileSize(of: story) }
        func text(of story: StoredStoryRef) -> StoryText? {
            textsRead.insert(story.id)
            return inner.text(of: story)
        }
    }

    @Test func theStoredTextsADecisionReadsAreAnnouncedBeforehand() throws {
        var generator = StoryGenerator(seed: 17)
        var deduplicator = Deduplicator(rule: NearDuplicateRule(), stored: [], events: EventGrouper())
        let lookup = Lookup()
        let originals = (0..<400).map { index in incoming(generator.story(), url: "https://a.example/\(index)") }
        _ = try ingest(originals, into: &deduplicator, lookup: lookup)
        var announcedSomething = 0
        for index in stride(from: 0, to: 400, by: 7) {
            // Near copies, teasers (the first two paragraphs under the same headline) and new stories.
            var copy = originals[index].text
            copy.paragraphs[1] = "Officials said " + copy.paragraphs[1]
            let teaser = StoryText(headline: copy.headline, paragraphs: Array(copy.paragraphs.prefix(2)))
            for text in [copy, teaser, generator.story()] {
                let story = incoming(text, url: "https://b.example/\(index)-\(text.headline.count)")
                let announced = Set(deduplicator.storedStoriesToCheck(for: story))
                let recording = RecordingLookup(lookup)
                var trial = deduplicator
                _ = try trial.decide(story, lookup: recording)
                #expect(recording.textsRead.isSubset(of: announced), "read \(recording.textsRead.subtracting(announced)) unannounced")
                if !recording.textsRead.isEmpty { announcedSomething += 1 }
            }
        }
        #expect(announcedSomething >= 100)  // the copies and teasers did read texts
    }

    @Test func sameEventStoriesSharingNamesAndNumbersAreAllKept() throws {
        // Five reports of one event: the same people, places and figures in different words.
        var generator = StoryGenerator(seed: 3)
        let facts = "Scholz and Macron met in Warsaw on Tuesday with 11,400 troops and 2,350 vehicles at the border"
        let reports = (0..<5).map { index in
            var story = generator.story(paragraphs: 6)
            story.paragraphs.insert(facts + ", report \(index) said, quoting officials in Kyiv and Berlin.", at: 0)
            story.paragraphs.insert("The 11,400 troops and 2,350 vehicles were seen near Warsaw, Scholz told reporters.", at: 3)
            return incoming(story, url: "https://outlet\(index).example/story")
        }
        var deduplicator = Deduplicator(rule: NearDuplicateRule(), stored: [], events: EventGrouper())
        let decisions = try ingest(reports, into: &deduplicator, lookup: Lookup())
        var events = Set<String>()
        for decision in decisions {
            guard case let .store(event, supersedes) = decision else {
                Issue.record("a distinct report was dropped: \(decision)")
                continue
            }
            #expect(supersedes == nil)
            events.insert(event)
        }
        #expect(events.count == 1)
    }

    @Test func truncatedAndTeaserCopiesAreCaughtButOtherStoriesWithTheSameOpeningAreNot() throws {
        var generator = StoryGenerator(seed: 5)
        let original = generator.story(paragraphs: 12)
        var deduplicator = Deduplicator(rule: NearDuplicateRule(), stored: [], events: EventGrouper())
        let lookup = Lookup()
        _ = try ingest([incoming(original, url: "https://a.example/full")], into: &deduplicator, lookup: lookup)
        let truncated = StoryText(headline: original.headline, paragraphs: Array(original.paragraphs.prefix(5)))
        let teaser = StoryText(headline: "Another headline", paragraphs: [original.paragraphs[0]])
        let fortyWords = StoryText(headline: original.headline,
                                   paragraphs: [original.paragraphs.joined(separator: " ").split(separator: " ").prefix(40).joined(separator: " ")])
        for copy in [truncated, teaser, fortyWords] {
            let decision = try deduplicator.decide(incoming(copy, url: "https://b.example/\(copy.paragraphs.count)"), lookup: lookup)
            guard case let .duplicate(reason, .stored(of), near) = decision else {
                Issue.record("a shortened copy was stored: \(copy.paragraphs.first?.prefix(40) ?? "")")
                continue
            }
            #expect(reason == .nearText)
            #expect(of.id == 1)
            #expect((near?.containment ?? 0) >= 0.8)
        }
        // The same first paragraph followed by a different story is a different story.
        var follow = generator.story(paragraphs: 11)
        follow.paragraphs.insert(original.paragraphs[0], at: 0)
        let decision = try deduplicator.decide(incoming(follow, url: "https://c.example/other"), lookup: lookup)
        guard case .store = decision else {
            Issue.record("a different story with the same opening paragraph was dropped: \(decision)")
            return
        }
    }

    @Test func aShortTeaserIsADuplicateOnlyUnderTheSameHeadline() throws {
        var generator = StoryGenerator(seed: 13)
        let original = generator.story(paragraphs: 10)
        var deduplicator = Deduplicator(rule: NearDuplicateRule(), stored: [], events: EventGrouper())
        let lookup = Lookup()
        _ = try ingest([incoming(original, url: "https://a.example/full")], into: &deduplicator, lookup: lookup)
        // Twenty words: too few shared shingles for the text alone to say "copy".
        let words = original.paragraphs.joined(separator: " ").split(separator: " ").prefix(20).joined(separator: " ")
        let sameHeadline = StoryText(headline: original.headline, paragraphs: [words])
        let otherHeadline = StoryText(headline: "A headline of its own", paragraphs: [words])
        guard case .duplicate(.nearText, .stored, _) = try deduplicator.decide(incoming(sameHeadline, url: "https://b.example/1"), lookup: lookup) else {
            Issue.record("a teaser under the stored story's headline was kept")
            return
        }
        guard case .store = try deduplicator.decide(incoming(otherHeadline, url: "https://b.example/2"), lookup: lookup) else {
            Issue.record("a twenty-word text under another headline was dropped")
            return
        }
    }

    @Test func aRepeatedGenericHeadlineCostsNoTextReadsButTeasersUnderItAreStillCaught() throws {
        var generator = StoryGenerator(seed: 21)
        var deduplicator = Deduplicator(rule: NearDuplicateRule(), stored: [], events: EventGrouper())
        let lookup = Lookup()
        let briefings = (0..<6).map { index in
            incoming(StoryText(headline: "Morning briefing", paragraphs: generator.story(paragraphs: 8).paragraphs),
                     url: "https://a.example/briefing-\(index)")
        }
        #expect(briefings.allSatisfy { $0.proseShingles.count >= Deduplicator.reliableShingles })
        let decisions = try ingest(briefings, into: &deduplicator, lookup: lookup)
        #expect(decisions.allSatisfy { if case .store = $0 { true } else { false } })

        // Another full-length story under the same headline: its estimates against the stored
        // ones are reliable, so no stored text is read to keep it.
        let another = incoming(StoryText(headline: "Morning briefing", paragraphs: generator.story(paragraphs: 8).paragraphs),
                               url: "https://a.example/briefing-new")
        let recording = RecordingLookup(lookup)
        guard case .store = try deduplicator.decide(another, lookup: recording) else {
            Issue.record("a distinct story under a repeated headline was dropped")
            return
        }
        #expect(recording.textsRead.isEmpty, "read \(recording.textsRead)")
        #expect(deduplicator.storedStoriesToCheck(for: another).isEmpty)

        // A teaser and a truncated copy under it (estimates too noisy) are checked and dropped.
        let original = briefings[3].text
        let shorter = [StoryText(headline: original.headline, paragraphs: Array(original.paragraphs.prefix(1))),
                       StoryText(headline: original.headline, paragraphs: Array(original.paragraphs.prefix(3)))]
        for (index, text) in shorter.enumerated() {
            let decision = try deduplicator.decide(incoming(text, url: "https://b.example/short-\(index)"), lookup: lookup)
            guard case .duplicate(.nearText, .stored(let target), _) = decision, target.id == 4 else {
                Issue.record("a shortened copy (\(text.paragraphs.count) paragraphs) under the same headline: \(decision)")
                continue
            }
        }
    }

    @Test func theSameInputGivesTheSameDecisionsAndKeepLongerSupersedes() throws {
        var generator = StoryGenerator(seed: 9)
        let short = generator.story(paragraphs: 6)
        var longer = short
        longer.paragraphs += ["An added paragraph with the latest figures from the ministry and the reaction of the opposition parties today.",
                              "A second added paragraph with quotes from the mayor, who said construction would start in the spring."]
        var deduplicator = Deduplicator(rule: NearDuplicateRule(keepLonger: true), stored: [], events: EventGrouper())
        let lookup = Lookup()
        let decisions = try ingest([incoming(short, url: "https://a.example/1"), incoming(longer, url: "https://b.example/1")],
                                   into: &deduplicator, lookup: lookup)
        guard case let .store(_, supersedes) = decisions[1], let supersedes else {
            Issue.record("the fuller version was not stored as superseding: \(decisions[1])")
            return
        }
        #expect(supersedes.0.id == 1)
    }
}

@Suite struct ShingleSetTests {
    @Test func distinctShinglesKeepTheirFirstOrderAndSharedCountsMatchSets() {
        var generator = SplitMix(seed: 7)
        for round in 0..<200 {
            // Values from a small range repeat; 0 is among them (the table's empty marker).
            let range = UInt64(1 + round * 3)
            let words = (0..<(round % 40)).map { _ in generator.next() % range }
            let shingles = Shingles.hashes(wordHashes: words)
            var seen = Set<UInt64>()
            var expected: [UInt64] = []
            for start in 0..<max(1, words.count - Shingles.size + 1) where !words.isEmpty {
                var hash: UInt64 = 0x243F_6A88_85A3_08D3
                for index in start..<min(words.count, start + Shingles.size) { hash = Shingles.mix(hash ^ words[index]) }
                if seen.insert(hash).inserted { expected.append(hash) }
            }
            #expect(shingles == expected)
            let a = (0..<(round % 60)).map { _ in generator.next() % range }
            let b = (0..<(round % 23)).map { _ in generator.next() % range }
            let (setA, setB) = (Set(a), Set(b))
            #expect(Shingles.sharedCount(Array(setA), Array(setB)) == setA.intersection(setB).count)
        }
    }
}

@Suite struct EventGrouperTests {
    let day = Date(timeIntervalSince1970: 1_730_721_600)

    @Test func eventNamesAreHeldAsNumbersAndGivenBackAsTheyCame() {
        for name in ["ev-0000000000000000", "ev-4634c8926c8a3140", "ev-ffffffffffffffff"] {
            #expect(EventGrouper.eventCode(name).map(EventGrouper.eventName) == name)
        }
        for name in ["ev-summit", "ev-4634C8926C8A3140", "ev-4634c8926c8a314g", "xx-4634c8926c8a3140", "ev-4634c8926c8a31400", ""] {
            #expect(EventGrouper.eventCode(name) == nil)
        }
        // Both kinds of name come back from `assign` as they were added.
        var grouper = EventGrouper(window: 3600, threshold: 0.27)
        for index in 0..<200 {
            grouper.add(.init(id: Int64(index), event: "bg-\(index)", terms: terms(["x\(index)", "y\(index)"]), at: day))
        }
        grouper.add(.init(id: 500, event: "ev-4634c8926c8a3140", terms: terms(["kursk", "syrskyi", "8700"]), at: day))
        grouper.add(.init(id: 501, event: "summit in warsaw", terms: terms(["scholz", "warsaw", "11400"]), at: day))
        #expect(grouper.assign(terms: terms(["kursk", "syrskyi", "8700"]), at: day, newEvent: "new").event == "ev-4634c8926c8a3140")
        #expect(grouper.assign(terms: terms(["scholz", "warsaw", "11400"]), at: day, newEvent: "new").event == "summit in warsaw")
    }

    @Test func theByteRulesForTermsAgreeWithTheTextRules() {
        // The ASCII fast path of the word scan must keep exactly what the text rules keep.
        let words = ["Putin", "PUTIN", "putin", "Ab", "Abc", "The", "Reuters", "NATO", "11,000", "1,000,000", "2024", "1899",
                     "2101", "12", "123", "0042", "99999999999999999999999", "Kyiv", "Zelenskyy", "Mr", "X1", "A320", "Ørsted", "Écosse"]
        for word in words {
            for sentenceStart in [false, true] {
                let fromBytes = Array(word.utf8).withUnsafeBufferPointer { EventTerms.term($0, sentenceStart: sentenceStart) }
                #expect(fromBytes == EventTerms.term(word, sentenceStart: sentenceStart), "\(word) sentenceStart \(sentenceStart)")
            }
        }
    }

    func terms(_ names: [String]) -> EventTerms {
        EventTerms(counts: Dictionary(names.map { ($0, 2) }, uniquingKeysWith: +))
    }

    @Test func membershipSurvivesAPruneAndOldMembersAreEvicted() {
        var grouper = EventGrouper(window: 3600, threshold: 0.27)
        // Background stories so that IDF means something.
        for index in 0..<2000 {
            grouper.add(.init(id: Int64(index), event: "bg-\(index)", terms: terms(["x\(index)", "y\(index)", "common"]), at: day))
        }
        let event = ["scholz", "warsaw", "11400", "macron"]
        grouper.add(.init(id: 1000, event: "ev-summit", terms: terms(event), at: day))
        grouper.add(.init(id: 1001, event: "ev-old", terms: terms(["kursk", "syrskyi", "8700"]), at: day.addingTimeInterval(-1.9 * 3600)))
        let before = grouper.memberCount
        #expect(before == 2002)
        #expect(grouper.assign(terms: terms(["kursk", "syrskyi", "8700"]), at: day.addingTimeInterval(-1.8 * 3600), newEvent: "new").event == "ev-old")
        grouper.prune(before: day.addingTimeInterval(2 * 3600))
        // Members published more than two windows before the prune time are gone, the rest stay.
        #expect(grouper.memberCount == before - 1)
        #expect(grouper.assign(terms: terms(event + ["tusk"]), at: day.addingTimeInterval(600), newEvent: "new").event == "ev-summit")
        #expect(grouper.assign(terms: terms(["kursk", "syrskyi", "8700"]), at: day.addingTimeInterval(-1.8 * 3600), newEvent: "new").event == "new")
        // Time moving on evicts by itself and the postings of evicted members are swept once they
        // outnumber the members held: memory stays bounded under `run`.
        for hour in 1...48 {
            grouper.add(.init(id: Int64(2000 + hour), event: "later-\(hour)", terms: terms(["h\(hour)", "common"]), at: day.addingTimeInterval(Double(hour) * 3600)))
        }
        #expect(grouper.memberCount <= 4)
        #expect(grouper.termCount <= 60)  // the 4,000 terms of the evicted members were swept
    }
}

/// The ASCII fast paths of text normalisation give exactly what the general Unicode paths give.
@Suite struct FastPathTests {
    @Test func asciiNormalisationMatchesTheUnicodePath() {
        var generator = StoryGenerator(seed: 21)
        // ASCII, Latin and the block from U+2000 (spaces, quotes, dashes, currency: the tables'
        // ranges), and a few other scalars, which must take the general path.
        let alphabet = (Array(0..<0x300) + Array(0x2000..<0x20F0)).compactMap { Unicode.Scalar(UInt32($0)).map { String(Character($0)) } }
            + ["\u{301}", "\u{FB01}", "\u{2126}", "e\u{301}", "\u{1680}", "\u{3000}", "\u{FEFF}", "\u{FF21}", "\u{1F600}", "\u{AC00}"]
        for _ in 0..<5000 {
            let text = (0..<(1 + generator.next(40))).map { _ in
                generator.next(3) == 0 ? alphabet[generator.next(alphabet.count)] : String(generator.word().prefix(1))
            }.joined()
            if let fast = Dedupe.HashNormalizer.normalizeLatin(text) {
                #expect(fast == Dedupe.HashNormalizer.normalizeUnicode(text), "\(text.unicodeScalars.map(\.value))")
            }
            // The byte-level single-line path (which skips NFC below U+0300) gives what the
            // reference path on Unicode properties gives.
            #expect(FeedModel.StoryText.singleLineUTF8(text) == FeedModel.StoryText.singleLineUnicode(text), "\(text.unicodeScalars.map(\.value))")
        }
        #expect(Dedupe.HashNormalizer.normalizeLatin("Café Zürich") == "café zürich")
        #expect(Dedupe.HashNormalizer.normalizeLatin("cafe\u{301}") == nil)
        #expect(Dedupe.HashNormalizer.normalizeLatin("\u{201C}Price\u{201D} \u{2014} 5\u{20AC}\u{2026}") == "price 5€")
        #expect(FeedModel.StoryText.singleLineUTF8("\u{3000}a\u{A0}b\u{1}c\u{200B}") == "a bc")
        // C1 controls are the Windows-1252 characters they stand for (`&#146;` is "’"); the five
        // Windows-1252 leaves undefined are dropped.
        #expect(FeedModel.StoryText.singleLineUTF8("don\u{92}t \u{96} \u{85}\u{81}\u{80}5 \u{9F}") == "don\u{2019}t \u{2013} \u{2026}\u{20AC}5 \u{178}")
        // A corpus file read back: lines split on the newline byte, CR LF too.
        let read = FeedModel.StoryText(fileContents: "Head line\r\nPara \u{201C}one\u{201D}\r\n\r\nPara two\n")
        #expect(read.headline == "Head line" && read.paragraphs == ["Para \u{201C}one\u{201D}", "Para two"])
    }

    /// The SimHash counts bits a byte at a time in one-byte counters: it gives what counting
    /// each bit does, also past 255 shingles (where the counters are emptied).
    @Test func simHashByteCountersMatchTheBitByBitDefinition() {
        var generator = SeededGenerator(seed: 5)
        for count in [1, 2, 254, 255, 256, 511, 1_000] {
            let shingles = (0..<count).map { _ in UInt64.random(in: .min ... .max, using: &generator) }
            var weights = [Int](repeating: 0, count: 64)
            for shingle in shingles {
                let hash = Shingles.mix(shingle)
                for bit in 0..<64 { weights[bit] += (hash >> UInt64(bit)) & 1 == 1 ? 1 : -1 }
            }
            let expected = (0..<64).reduce(UInt64(0)) { weights[$1] > 0 ? $0 | (1 << UInt64($1)) : $0 }
            #expect(SimHash.compute(shingles: shingles) == expected, "\(count) shingles")
        }
    }

    @Test func theHandWrittenManifestLineIsWhatJSONSerializationWrites() throws {
        var record = StoryRecord(
            file: "2024-11-04/000_0123456789abcdef.txt", sha256: String(repeating: "a", count: 64), simhash: "00ff00ff00ff00ff",
            url: "https://x.example/a/b?c=1", feed: "Feed \"quoted\" \\ back", feedURL: "https://x.example/rss", entryID: nil,
            title: "Tab\tnew\nline \u{01}\u{1F}\u{7F} é \u{2028} 😀 / slash", published: Date(timeIntervalSince1970: 1_730_721_600),
            fetched: Date(timeIntervalSince1970: 1_730_725_200), language: "en", textSource: .page, supersedes: "f.txt",
            nearDistance: 4, event: "ev-1", author: nil, canonicalURL: nil)
        for (distance, via) in [(4, nil), (nil, StoryVia.sitemap)] as [(Int?, StoryVia?)] {
            record.nearDistance = distance
            record.via = via
            let line = try record.jsonLine()
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let reference = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            #expect(line == String(decoding: reference, as: UTF8.self))
            #expect(object.count == 19)
            #expect(object["via"] as? String == via?.rawValue)
        }
    }
}
