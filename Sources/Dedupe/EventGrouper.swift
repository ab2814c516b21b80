import FeedModel
import Foundation

/// The salient terms of a story for event grouping: names (capitalised words that do not start a
/// sentence) and significant numbers, folded to lower case without diacritics.
///
/// Two reports of one event name the same people, places and figures ("Choe Son Hui", "Kursk",
/// "11,000") even when their wording differs completely; two events that merely share a famous
/// name share little else.
public struct EventTerms: Sendable, Equatable {
    public var counts: [String: Int]

    public init(counts: [String: Int]) { self.counts = counts }

    public init(story: StoryText) {
        var counts: [String: Int] = [:]
        for line in [story.headline] + story.paragraphs {
            var sentenceStart = true
            var word = String.UnicodeScalarView()
            var wordStartsWithNumber = false
            func finish(_ next: Unicode.Scalar?) {
                defer {
                    word = String.UnicodeScalarView()
                }
                guard !word.isEmpty else { return }
                if let term = EventTerms.term(String(word), sentenceStart: sentenceStart) { counts[term, default: 0] += 1 }
                sentenceStart = next.map { ".!?:;\"“”".unicodeScalars.contains($0) } ?? false
            }
            for scalar in line.unicodeScalars {
                let kind = Self.kind(scalar)
                if kind == .letter || kind == .number || (kind == .mark && !word.isEmpty) || (scalar == "," && wordStartsWithNumber && !word.isEmpty) {
                    if word.isEmpty { wordStartsWithNumber = kind == .number }
                    word.append(scalar)
                } else if scalar == "'" || scalar == "’" {
                    finish(nil)  // "Russia's": the possessive ends the word
                    sentenceStart = false
                } else {
                    let wasEmpty = word.isEmpty
                    finish(scalar)
                    if wasEmpty, ".!?:;".unicodeScalars.contains(scalar) { sentenceStart = true }
                }
            }
            finish(nil)
        }
        self.counts = counts.filter { $0.value > 0 }
    }

    private enum ScalarKind { case letter, number, mark, other }

    private static func kind(_ scalar: Unicode.Scalar) -> ScalarKind {
        switch scalar.value {
        case 0x30...0x39: return .number
        case 0x41...0x5A, 0x61...0x7A: return .letter
        case 0..<0x80: return .other
        default:
            let properties = scalar.properties
            if properties.numericType != nil { return .number }
            if properties.isAlphabetic { return .letter }
            switch properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark: return .mark
            default: return .other
            }
        }
    }

    /// "putin kursk 11000 ..." (term:count pairs), for the state.
    public var serialized: String {
        counts.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " ")
    }

    public init(serialized: String) {
        var counts: [String: Int] = [:]
        for pair in serialized.split(separator: " ") {
            let parts = pair.split(separator: ":")
            if parts.count == 2, let count = Int(parts[1]) { counts[String(parts[0])] = count }
        }
        self.counts = counts
    }

    static func term(_ raw: String, sentenceStart: Bool) -> String? {
        guard let first = raw.unicodeScalars.first else { return nil }
        if kind(first) == .number {
            let digits = String(String.UnicodeScalarView(raw.unicodeScalars.filter { kind($0) == .number }))
            guard digits.unicodeScalars.count >= 3, let value = Int(digits) else { return nil }
            if digits.count == 4 && (1900...2100).contains(value) { return nil }  // years say little
            return digits
        }
        let isUpper = first.isASCII ? (0x41...0x5A).contains(first.value) : first.properties.isUppercase
        guard isUpper, !sentenceStart, raw.count >= 3 else { return nil }
        let folded = raw.utf8.allSatisfy { $0 < 0x80 } ? raw.lowercased()
            : raw.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
        guard !stopNames.contains(folded) else { return nil }
        return folded
    }

    /// Capitalised words that name no one in particular.
    static let stopNames: Set<String> = [
        "the", "and", "but", "for", "with", "this", "that", "these", "those", "there", "their", "they", "his", "her",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december", "president", "minister", "ministry", "secretary", "general", "foreign", "prime",
        "state", "department", "government", "news", "reuters", "read", "more", "according", "meanwhile",
        "however", "also", "after", "before", "while", "when", "where", "what", "which", "who", "how", "why",
    ]
}

/// Assigns an event id to each stored story: a story joins the event of the most similar story
/// published within `window` of it (TF-IDF cosine over `EventTerms` at or above `threshold`),
/// else starts a new event.
///
/// Cost follows the candidates, not the corpus: an inverted index from each salient term to the
/// members that name it finds the stories worth comparing, a term named by a large share of the
/// members (it says little) is not used to find candidates, and each member keeps the weights it
/// was given when it was added. Members published more than twice the window before the newest
/// member are evicted (they can no longer match a story of the present), so memory stays bounded
/// however long the service runs.
public struct EventGrouper: Sendable {
    public struct Member: Sendable {
        public var id: Int64
        public var event: String
        public var terms: EventTerms
        public var at: Date

        public init(id: Int64, event: String, terms: EventTerms, at: Date) {
            self.id = id
            self.event = event
            self.terms = terms
            self.at = at
        }
    }

    /// A member as held: its interned terms, and the norm of the weights they had when it was
    /// added (the weights themselves sit in the postings).
    private struct Held: Sendable {
        var event: String
        var at: Double
        var norm: Float
    }

    /// One member naming a term, with the term's weight in that member.
    private struct Posting: Sendable {
        var slot: Int32
        var weight: Float
    }

    public var window: TimeInterval
    public var threshold: Double
    /// Members by slot; nil once evicted.
    private var held: [Int32: Held] = [:]
    private var nextSlot: Int32 = 0
    /// Interned terms: id by text, and per id the members that name it.
    /// Terms are held by a 64-bit hash of their text, not the text: a window holds hundreds of
    /// thousands of figures and names, most named once.
    private var termIDs: [UInt64: Int32] = [:]
    private var termHashes: [UInt64] = []
    private var postings: [[Posting]] = []
    private var freeTermIDs: [Int32] = []
    /// Members evicted since the postings were last swept.
    private var stalePostings = 0
    /// Members by the hour they were published in, for eviction.
    private var byHour: [Int: [Int32]] = [:]
    private var newest = -Double.infinity

    /// Terms of a member that are indexed (its highest-weighted).
    public static let keptTerms = 16

    /// Terms named by more members than this are not used to find candidates.
    public static let commonTermLimit = 1_000

    public init(window: TimeInterval = 48 * 3600, threshold: Double = 0.27) {
        self.window = window
        self.threshold = threshold
    }

    /// Members held (for tests and diagnostics).
    public var memberCount: Int { held.count }
    /// Distinct terms held (for tests and diagnostics).
    public var termCount: Int { termIDs.count }

    /// Adds a story whose event is decided (a new story, or a recent one loaded at start-up).
    public mutating func add(_ member: Member) {
        let at = member.at.timeIntervalSince1970
        if at < newest - 2 * window { return }  // Too old to ever match again.
        let slot = nextSlot
        nextSlot += 1
        // A long story names a hundred people, places and figures: only its most telling
        // `keptTerms` are indexed (memory is what the postings cost). The norm counts them all,
        // so a similarity is never overestimated.
        var weighted: [(text: String, hash: UInt64, weight: Float)] = []
        weighted.reserveCapacity(member.terms.counts.count)
        var norm: Float = 0
        for (text, count) in member.terms.counts {
            let weight = Float(weight(count: count, documentFrequency: postings(of: text)))
            weighted.append((text, Self.hash(text), weight))
            norm += weight * weight
        }
        if weighted.count > Self.keptTerms {
            weighted.sort { $0.weight != $1.weight ? $0.weight > $1.weight : $0.hash < $1.hash }
            weighted.removeLast(weighted.count - Self.keptTerms)
        }
        for term in weighted where term.weight > 0 {
            let id = intern(term.text)
            postings[Int(id)].append(Posting(slot: slot, weight: term.weight))
        }
        held[slot] = Held(event: member.event, at: at, norm: norm.squareRoot())
        byHour[Self.hour(at), default: []].append(slot)
        if at > newest {
            newest = at
            evict(before: newest - 2 * window)
        }
    }

    /// The event for a new story at `at` with `terms`, and the similarity that decided it
    /// (nil when it starts a new event, named `newEvent`). Does not add the story. Ties go to the
    /// member added first, so the outcome does not depend on hash order.
    public func assign(terms: EventTerms, at: Date, newEvent: String) -> (event: String, similarity: Double?) {
        let time = at.timeIntervalSince1970
        let query = terms.counts.map { (text: $0.key, weight: weight(count: $0.value, documentFrequency: postings(of: $0.key))) }
        let queryNorm = query.reduce(0.0) { $0 + $1.weight * $1.weight }.squareRoot()
        guard queryNorm > 0 else { return (newEvent, nil) }
        // Term at a time: each query term's postings add to their members' dot products, so the
        // cost is the postings of the query's terms, never the members as a whole. A term named
        // by more than `commonTermLimit` members says little (its IDF is low) and would make
        // every story a candidate: it is left out of the search.
        var dots: [Int32: Double] = [:]
        for term in query where term.weight > 0 {
            guard let id = termIDs[Self.hash(term.text)] else { continue }
            let list = postings[Int(id)]
            guard list.count <= Self.commonTermLimit else { continue }
            for posting in list { dots[posting.slot, default: 0] += term.weight * Double(posting.weight) }
        }
        var best: (slot: Int32, similarity: Double)?
        for (slot, dot) in dots {
            guard let member = held[slot], abs(member.at - time) <= window, member.norm > 0 else { continue }
            let similarity = dot / (queryNorm * Double(member.norm))
            guard similarity >= threshold else { continue }
            if let current = best, similarity < current.similarity || (similarity == current.similarity && slot > current.slot) { continue }
            best = (slot, similarity)
        }
        guard let best, let member = held[best.slot] else { return (newEvent, nil) }
        return (member.event, best.similarity)
    }

    /// TF-IDF cosine similarity of two term sets under the current document frequencies.
    public func similarity(_ a: EventTerms, _ b: EventTerms) -> Double {
        var dot = 0.0
        var normA = 0.0
        var normB = 0.0
        for (term, count) in a.counts {
            let w = weight(count: count, documentFrequency: postings(of: term))
            normA += w * w
            if let other = b.counts[term] { dot += w * weight(count: other, documentFrequency: postings(of: term)) }
        }
        for (term, count) in b.counts {
            let w = weight(count: count, documentFrequency: postings(of: term))
            normB += w * w
        }
        return normA > 0 && normB > 0 ? dot / (normA.squareRoot() * normB.squareRoot()) : 0
    }

    /// Forgets members published more than twice the window before `now` (they can no longer
    /// match a story of the present). `add` does this as time moves on; the service may also call
    /// it when nothing new was added for a while.
    public mutating func prune(before now: Date) {
        evict(before: now.timeIntervalSince1970 - 2 * window)
    }

    private mutating func evict(before cutoff: Double) {
        guard cutoff.isFinite else { return }  // An infinite window keeps everything.
        let cutoffHour = Self.hour(cutoff)
        for hour in byHour.keys where hour < cutoffHour {
            for slot in byHour[hour] ?? [] where held.removeValue(forKey: slot) != nil {
                stalePostings += 1
            }
            byHour.removeValue(forKey: hour)
        }
        // Postings of evicted members are skipped by lookups and swept out in one pass over all
        // postings once the evicted outnumber the members held (amortised: each posting is swept
        // a bounded number of times).
        guard stalePostings > max(1_024, held.count) else { return }
        for id in postings.indices where !postings[id].isEmpty {
            postings[id].removeAll { held[$0.slot] == nil }
            if postings[id].isEmpty {
                termIDs.removeValue(forKey: termHashes[id])
                termHashes[id] = 0
                freeTermIDs.append(Int32(id))
            }
        }
        stalePostings = 0
    }

    private mutating func intern(_ text: String) -> Int32 {
        let hash = Self.hash(text)
        if let id = termIDs[hash] { return id }
        let id: Int32
        if let free = freeTermIDs.popLast() {
            id = free
            termHashes[Int(id)] = hash
        } else {
            id = Int32(termHashes.count)
            termHashes.append(hash)
            postings.append([])
        }
        termIDs[hash] = id
        return id
    }

    private func postings(of text: String) -> Int {
        termIDs[Self.hash(text)].map { postings[Int($0)].count } ?? 0
    }

    /// FNV-1a over the UTF-8 bytes, finished with a mix (stable across runs, unlike `Hasher`).
    private static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return Shingles.mix(hash)
    }

    private func weight(count: Int, documentFrequency: Int) -> Double {
        // Smoothed IDF: with few stories held, nothing is "common" yet.
        let total = Double(held.count + 20)
        return (1 + log(Double(count))) * log(total / Double(documentFrequency + 1))
    }

    private static func hour(_ time: Double) -> Int {
        Int((time / 3600).rounded(.down))
    }
}
