import Dedupe
import FeedModel
import Foundation
import Testing

@Suite struct SimHashIndexTests {
    /// The index must agree with a brute-force scan: every fingerprint within the distance is
    /// found, none beyond it, both in the bulk-built part and among later inserts.
    @Test(arguments: [1, 3, 5])
    func agreesWithBruteForce(maxDistance: Int) {
        var generator = SeededGenerator(seed: UInt64(maxDistance))
        let stored = (0..<3000).map { _ in UInt64.random(in: .min ... .max, using: &generator) }
        var index = SimHashIndex.build(maxDistance: maxDistance, stored.prefix(2000).enumerated().map { (Int64($0.offset), $0.element) })
        for (offset, fingerprint) in stored.enumerated().dropFirst(2000) { index.insert(fingerprint, id: Int64(offset)) }
        for round in 0..<400 {
            let base = stored[Int.random(in: 0..<stored.count, using: &generator)]
            var query = base
            for _ in 0..<Int.random(in: 0...(maxDistance + 2), using: &generator) {
                query ^= 1 << UInt64.random(in: 0..<64, using: &generator)
            }
            if round % 5 == 0 { query = UInt64.random(in: .min ... .max, using: &generator) }
            let expected = stored.enumerated()
                .map { (id: Int64($0.offset), distance: SimHash.distance($0.element, query)) }
                .filter { $0.distance <= maxDistance }
                .sorted { ($0.distance, $0.id) < ($1.distance, $1.id) }
            #expect(index.matches(query).map(\.id) == expected.map(\.id))
            #expect(index.nearest(query)?.id == expected.first?.id)
        }
    }

    @Test func nearestPrefersTheClosestThenTheEarliest() {
        var index = SimHashIndex(maxDistance: 3)
        index.insert(0b1111, id: 10)
        index.insert(0b0111, id: 20)
        index.insert(0b0111, id: 30)
        #expect(index.nearest(0b0111) == SimHashIndex.Match(id: 20, distance: 0))
        #expect(index.nearest(0b1111_0000_0000) == nil)
    }
}

@Suite struct BandIndexTests {
    /// The band index must agree with a brute-force comparison of the compared (low 8) bits of
    /// every band, through several rebuilds of its table, for signatures that share bands with
    /// stored ones, that differ only in the high bits of their slots, and that are empty.
    @Test func agreesWithBruteForceThroughGrowth() {
        var generator = SeededGenerator(seed: 11)
        let bands = 16, rows = 4, slotCount = MinHashSignature.wholeSlots
        var stored: [MinHashSignature] = []
        var index = BandIndex(bands: bands, rows: rows, slotCount: slotCount)
        func random() -> MinHashSignature {
            // Few distinct values a slot, so that unrelated signatures share bands too.
            MinHashSignature(slots: (0..<slotCount).map { _ in UInt16.random(in: 0..<4, using: &generator) << 8 | UInt16.random(in: 0..<3, using: &generator) },
                             shingleCount: 40)
        }
        for round in 0..<3000 {
            var signature = random()
            if round % 7 == 0, let earlier = stored.randomElement(using: &generator), !earlier.slots.isEmpty {
                signature = earlier
                for _ in 0..<20 { signature.slots[Int.random(in: 0..<slotCount, using: &generator)] ^= 0x00FF }
            }
            if round % 97 == 0 { signature = MinHashSignature(slots: [], shingleCount: 0) }
            #expect(index.insert(signature) == Int32(stored.count))
            stored.append(signature)
        }
        #expect(index.count == 3000)
        for _ in 0..<300 {
            var query = random()
            if Bool.random(using: &generator), let earlier = stored.randomElement(using: &generator), !earlier.slots.isEmpty {
                query = earlier
                // High bits are not compared: only the low 8 decide.
                for slot in query.slots.indices where Bool.random(using: &generator) { query.slots[slot] ^= 0x0300 }
            }
            let expected = stored.indices.filter { position in
                let other = stored[position]
                guard other.slots.count == slotCount else { return false }
                return (0..<bands).contains { band in
                    (band * rows..<(band + 1) * rows).allSatisfy {
                        MinHashSignature.compared(other.slots[$0]) == MinHashSignature.compared(query.slots[$0])
                    }
                }
            }.map(Int32.init)
            #expect(index.candidates(query) == expected)
        }
        #expect(index.candidates(MinHashSignature(slots: [], shingleCount: 0)).isEmpty)
    }
}

@Suite struct FingerprintRobustnessTests {
    let paragraphs = (1...12).map { index in
        "Paragraph \(index) reports that officials in the capital discussed the budget, the border and the harvest on day \(index), said sources close to the talks."
    }

    @Test func syndicationEditsStayNearAndOtherStoriesStayFar() {
        let original = TextFingerprint(story: StoryText(headline: "Budget talks", paragraphs: paragraphs))
        let truncated = TextFingerprint(story: StoryText(headline: "Budget talks", paragraphs: Array(paragraphs.prefix(10))))
        let footer = TextFingerprint(story: StoryText(headline: "Other headline", paragraphs: paragraphs + ["Sign up for our newsletter.", "Copyright 2024."]))
        let other = TextFingerprint(story: StoryText(headline: "Football", paragraphs: (1...12).map {
            "The striker scored twice in the second half as the home side won \($0) matches in a row before a record crowd."
        }))
        let deduplicator = Deduplicator(rule: NearDuplicateRule(), stored: [], events: EventGrouper())
        #expect(deduplicator.nearMatch(truncated, original) != nil)
        #expect(deduplicator.nearMatch(footer, original) != nil)
        #expect(deduplicator.nearMatch(other, original) == nil)
        #expect(SimHash.distance(other.simhash, original.simhash) > 10)
    }
}

@Suite struct EventTermsTests {
    @Test func namesAndFiguresButNotSentenceStartsOrYears() {
        let terms = EventTerms(story: StoryText(headline: "Putin meets Choe in Moscow",
                                                paragraphs: ["The Kremlin said 11,000 troops were in Kursk in 2024. Officials declined to comment.",
                                                             "Zelensky's office said North Korean units had arrived."]))
        #expect(terms.counts["kursk"] == 1)
        #expect(terms.counts["11000"] == 1)
        #expect(terms.counts["choe"] == 1)
        #expect(terms.counts["kremlin"] == 1)
        #expect(terms.counts["zelensky"] == nil)  // starts its sentence
        #expect(terms.counts["officials"] == nil)  // starts its sentence
        #expect(terms.counts["2024"] == nil)
        #expect(EventTerms(serialized: terms.serialized) == terms)
    }

    @Test func wordsPastASCIIQuotesAndPossessives() {
        let terms = EventTerms(story: StoryText(headline: "",
                                                paragraphs: ["\u{201C}Macron\u{201D} visited the Élysée with Kierkegaard. Østergaard met Zürich\u{2019}s mayor and Ljubljana’s."]))
        #expect(terms.counts["macron"] == nil)  // starts the line, inside quotes
        #expect(terms.counts["elysee"] == 1)  // folded without diacritics
        #expect(terms.counts["kierkegaard"] == 1)
        #expect(terms.counts.keys.allSatisfy { !$0.hasSuffix("stergaard") })  // starts its sentence
        #expect(terms.counts["zurich"] == 1)  // the possessive ends the word
        #expect(terms.counts["ljubljana"] == 1)
        #expect(terms.counts.count == 4)
    }
}

/// A deterministic generator so the brute-force comparison is reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
