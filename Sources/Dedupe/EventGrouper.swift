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
        let asciiKinds = Self.asciiKinds  // read once, not per byte
        for var line in [story.headline] + story.paragraphs {
            line.withUTF8 { bytes in
                // A word is a run of letters and figures (with marks after its first letter and
                // thousands separators inside a figure): a contiguous range of the line's bytes.
                var sentenceStart = true
                var wordStart: Int?
                var wordStartsWithNumber = false
                func finish(end: Int, next: UInt32?) {
                    guard let start = wordStart else { return }
                    wordStart = nil
                    let word = UnsafeBufferPointer(rebasing: bytes[start..<end])
                    if let term = EventTerms.term(word, sentenceStart: sentenceStart) { counts[term, default: 0] += 1 }
                    sentenceStart = next.map(EventTerms.endsSentenceBeforeName) ?? false
                }
                var index = 0
                while index < bytes.count {
                    let (value, length) = UTF8Scalar.decode(bytes, at: index)
                    let kind = value < 0x80 ? asciiKinds[Int(value)] : Self.kind(value)
                    if kind == .letter || kind == .number || (kind == .mark && wordStart != nil) || (value == 0x2C && wordStartsWithNumber && wordStart != nil) {
                        if wordStart == nil {
                            wordStart = index
                            wordStartsWithNumber = kind == .number
                        }
                    } else if value == 0x27 || value == 0x2019 {
                        finish(end: index, next: nil)  // "Russia's": the possessive ends the word
                        sentenceStart = false
                    } else {
                        let wasEmpty = wordStart == nil
                        finish(end: index, next: value)
                        if wasEmpty, Self.endsSentence(value) { sentenceStart = true }
                    }
                    index += length
                }
                finish(end: bytes.count, next: nil)
            }
        }
        self.counts = counts.filter { $0.value > 0 }
    }

    /// . ! ? : ;
    private static func endsSentence(_ value: UInt32) -> Bool {
        value == 0x2E || value == 0x21 || value == 0x3F || value == 0x3A || value == 0x3B
    }

    /// A sentence end or an opening or closing quote right after a word: the next word starts a
    /// sentence (its capital says nothing).
    private static func endsSentenceBeforeName(_ value: UInt32) -> Bool {
        endsSentence(value) || value == 0x22 || value == 0x201C || value == 0x201D
    }

    private enum ScalarKind { case letter, number, mark, other }

    private static let asciiKinds: [ScalarKind] = (0..<0x80).map { kind(UInt32($0)) }

    private static func kind(_ scalar: Unicode.Scalar) -> ScalarKind {
        kind(scalar.value)
    }

    private static func kind(_ value: UInt32) -> ScalarKind {
        switch value {
        case 0x30...0x39: return .number
        case 0x41...0x5A, 0x61...0x7A: return .letter
        case 0..<0x80: return .other
        default:
            guard let scalar = Unicode.Scalar(value) else { return .other }
            let properties = scalar.properties
            if properties.numericType != nil { return .number }
            if properties.isAlphabetic { return .letter }
            switch properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark: return .mark
            default: return .other
            }
        }
    }

    /// `term` on a word's UTF-8 bytes; most words start with a lower-case ASCII letter and are
    /// no term, which is decided here without making a string.
    static func term(_ word: UnsafeBufferPointer<UInt8>, sentenceStart: Bool) -> String? {
        guard let first = word.first else { return nil }
        if first >= 0x61 && first <= 0x7A { return nil }
        if first >= 0x41 && first <= 0x5A && sentenceStart { return nil }
        guard word.allSatisfy({ $0 < 0x80 }) else { return term(String(decoding: word, as: UTF8.self), sentenceStart: sentenceStart) }
        // ASCII (most words): the same rules as `term(_:sentenceStart:)` on the bytes.
        if first >= 0x30 && first <= 0x39 {
            let digits = String(decoding: word.lazy.filter { $0 >= 0x30 && $0 <= 0x39 }, as: UTF8.self)
            guard digits.utf8.count >= 3, let value = Int(digits) else { return nil }
            if digits.utf8.count == 4 && (1900...2100).contains(value) { return nil }  // years say little
            return digits
        }
        guard first >= 0x41 && first <= 0x5A, word.count >= 3 else { return nil }
        let folded = String(decoding: word.lazy.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        return stopNames.contains(folded) ? nil : folded
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
/// members that keep it (with the weight it had in that member when it was added) finds the
/// stories worth comparing and sums their dot products. A term kept by more than
/// `commonTermLimit` members says little and would make every story a candidate: from then on it
/// has no list (it no longer costs memory or time) and is left out of the search. Members
/// published more than twice the window before the newest member are evicted (they can no
/// longer match a story of the present), so memory stays bounded however long the service runs.
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

    /// A member as held (its event apart, so that the search touches plain values only): when
    /// it was published (NaN once evicted), the norm of the weights of all its terms when it was
    /// added, and the order of addition (ties go to the member added first; slots are reused).
    private struct Held: Sendable {
        var at: Double
        var norm: Float
        var sequence: Int64

        static let evicted = Held(at: .nan, norm: 0, sequence: 0)
        var isEvicted: Bool { at.isNaN }
    }

    /// One member keeping a term, with the term's weight in that member.
    private struct Posting: Sendable {
        var slot: Int32
        var weight: Float
    }

    public var window: TimeInterval
    public var threshold: Double
    /// Members by slot. A slot is reused once the member lists naming its evicted member have
    /// been swept, so the arrays stay as long as the members held (plus those evicted since the
    /// last sweep).
    private var held: [Held] = []
    /// Event names by slot: "ev-" and 16 hex digits (every name this version gives) held as the
    /// number, any other name (an older state's) in `otherEvents`. A name as a string would
    /// cost 40 bytes more a member.
    private var eventCodes: [UInt64] = []
    private var otherEvents: [Int32: String] = [:]
    /// Each slot's kept terms: `keptTerms` places of term ids (then -1), so that eviction can
    /// count them out of their document frequencies.
    private var keptTermIDs: [Int32] = []
    private var heldCount = 0
    private var nextSequence: Int64 = 0
    /// Slots free for a new member, and slots evicted whose list entries are not swept yet.
    private var freeSlots: [Int32] = []
    private var retiredSlots: [Int32] = []
    /// `assign`'s partial dot products by slot (all zero between calls) and the slots it
    /// touched.
    private var dots: [Double] = []
    private var touched: [Int32] = []
    /// Interned terms, held by a 64-bit hash of their text (a window holds hundreds of thousands
    /// of figures and names, most named once): id by hash, and per id the number of members held
    /// that keep it (its document frequency), whether it has been too common to find candidates
    /// since it was interned, and, while it is not, the slots of the members keeping it.
    private var termIDs: [UInt64: Int32] = [:]
    private var termHashes: [UInt64] = []
    private var documentFrequencies: [Int32] = []
    private var saturated: [Bool] = []
    private var members: [[Posting]] = []
    private var freeTermIDs: [Int32] = []
    /// Members evicted since the member lists were last swept.
    private var staleEntries = 0
    /// Members by the hour they were published in, for eviction.
    private var byHour: [Int: [Int32]] = [:]
    private var newest = -Double.infinity

    /// Terms of a member that it is found by and compared on (its highest-weighted).
    public static let keptTerms = 16

    /// Terms kept by more members than this are left out of the search from then on, until
    /// no member keeps them.
    public static let commonTermLimit = 1_000

    public init(window: TimeInterval = 48 * 3600, threshold: Double = 0.27) {
        self.window = window
        self.threshold = threshold
    }

    /// Members held (for tests and diagnostics).
    public var memberCount: Int { heldCount }
    /// Distinct terms held (for tests and diagnostics).
    public var termCount: Int { termIDs.count }

    /// Adds a story whose event is decided (a new story, or a recent one loaded at start-up).
    public mutating func add(_ member: Member) {
        let at = member.at.timeIntervalSince1970
        if at < newest - 2 * window { return }  // Too old to ever match again.
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
        } else {
            slot = Int32(held.count)
            held.append(.evicted)
            eventCodes.append(0)
            dots.append(0)
            keptTermIDs.append(contentsOf: repeatElement(-1, count: Self.keptTerms))
        }
        var weighted: [(hash: UInt64, weight: Float)] = []
        weighted.reserveCapacity(member.terms.counts.count)
        for (text, count) in member.terms.counts {
            let hash = Self.hash(text)
            weighted.append((hash, Float(weight(count: count, documentFrequency: documentFrequency(ofHash: hash)))))
        }
        weighted.sort { $0.hash < $1.hash }  // a fixed summation order: the same norm in every run
        let norm = weighted.reduce(Float(0)) { $0 + $1.weight * $1.weight }.squareRoot()
        if weighted.count > Self.keptTerms {
            weighted.sort { $0.weight != $1.weight ? $0.weight > $1.weight : $0.hash < $1.hash }
            weighted.removeLast(weighted.count - Self.keptTerms)
        }
        let base = Int(slot) * Self.keptTerms
        var kept = 0
        for term in weighted where term.weight > 0 {
            let id = intern(hash: term.hash)
            documentFrequencies[Int(id)] += 1
            if !saturated[Int(id)] {
                if documentFrequencies[Int(id)] > Self.commonTermLimit {
                    saturated[Int(id)] = true
                    members[Int(id)] = []
                } else {
                    members[Int(id)].append(Posting(slot: slot, weight: term.weight))
                }
            }
            keptTermIDs[base + kept] = id
            kept += 1
        }
        held[Int(slot)] = Held(at: at, norm: norm, sequence: nextSequence)
        if let code = Self.eventCode(member.event) {
            eventCodes[Int(slot)] = code
            otherEvents.removeValue(forKey: slot)
        } else {
            otherEvents[slot] = member.event
        }
        nextSequence += 1
        heldCount += 1
        byHour[Self.hour(at), default: []].append(slot)
        if at > newest {
            newest = at
            evict(before: newest - 2 * window)
        }
    }

    /// The event for a new story at `at` with `terms`, and the similarity that decided it
    /// (nil when it starts a new event, named `newEvent`). Does not add the story. Ties go to the
    /// member added first, so the outcome does not depend on hash order.
    public mutating func assign(terms: EventTerms, at: Date, newEvent: String) -> (event: String, similarity: Double?) {
        let time = at.timeIntervalSince1970
        var query: [(id: Int32, hash: UInt64, weight: Double)] = []
        query.reserveCapacity(terms.counts.count)
        var squares: [Double] = []
        squares.reserveCapacity(terms.counts.count)
        for (text, count) in terms.counts {
            let hash = Self.hash(text)
            let id = termIDs[hash]
            let weight = weight(count: count, documentFrequency: id.map { Int(documentFrequencies[Int($0)]) } ?? 0)
            // Terms no member keeps cannot add to a dot product; they count in the norm only.
            if let id, weight > 0 { query.append((id, hash, weight)) } else { squares.append(weight * weight) }
        }
        // Sums in a fixed order (dictionary order changes from run to run), so the similarities
        // are the same to the last bit in every run.
        query.sort { $0.id < $1.id }
        squares.append(contentsOf: query.map { $0.weight * $0.weight })
        squares.sort()
        let queryNorm = squares.reduce(0.0, +).squareRoot()
        guard queryNorm > 0, !query.isEmpty else { return (newEvent, nil) }

        // Term at a time: each query term's list of members adds to their dot products, so the
        // cost is the lists of the query's terms, never the members as a whole. A term too common
        // to find candidates (see `commonTermLimit`) has no list and adds nothing.
        var dots: [Double] = []
        var touched: [Int32] = []
        swap(&dots, &self.dots)  // worked on locally, then put back (no copy)
        swap(&touched, &self.touched)
        defer {
            swap(&dots, &self.dots)
            swap(&touched, &self.touched)
        }
        var best: (slot: Int32, similarity: Double, sequence: Int64)?
        dots.withUnsafeMutableBufferPointer { dots in
            for term in query where !saturated[Int(term.id)] {
                members[Int(term.id)].withUnsafeBufferPointer { list in
                    for posting in list {
                        let slot = Int(posting.slot)
                        let dot = dots[slot]
                        if dot == 0 { touched.append(posting.slot) }  // weights are > 0
                        dots[slot] = dot + term.weight * Double(posting.weight)
                    }
                }
            }
            // A member can only reach the threshold when its dot product reaches threshold x
            // both norms (a hair below it here, so rounding never rules one out).
            let floor = threshold * queryNorm * (1 - 1e-9)
            held.withUnsafeBufferPointer { held in
                for slot in touched {
                    let dot = dots[Int(slot)]
                    dots[Int(slot)] = 0
                    let member = held[Int(slot)]
                    let norm = Double(member.norm)
                    guard norm > 0, dot >= floor * norm, abs(member.at - time) <= window else { continue }  // false for NaN (evicted)
                    let similarity = dot / (queryNorm * norm)
                    guard similarity >= threshold else { continue }
                    if let current = best, similarity < current.similarity || (similarity == current.similarity && member.sequence > current.sequence) { continue }
                    best = (slot, similarity, member.sequence)
                }
            }
        }
        touched.removeAll(keepingCapacity: true)
        guard let best else { return (newEvent, nil) }
        return (otherEvents[best.slot] ?? Self.eventName(eventCodes[Int(best.slot)]), best.similarity)
    }

    /// TF-IDF cosine similarity of two term sets under the current document frequencies.
    public func similarity(_ a: EventTerms, _ b: EventTerms) -> Double {
        var dot = 0.0
        var normA = 0.0
        var normB = 0.0
        for (term, count) in a.counts {
            let w = weight(count: count, documentFrequency: documentFrequency(ofHash: Self.hash(term)))
            normA += w * w
            if let other = b.counts[term] { dot += w * weight(count: other, documentFrequency: documentFrequency(ofHash: Self.hash(term))) }
        }
        for (term, count) in b.counts {
            let w = weight(count: count, documentFrequency: documentFrequency(ofHash: Self.hash(term)))
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
            for slot in byHour[hour] ?? [] where !held[Int(slot)].isEvicted {
                held[Int(slot)] = .evicted
                otherEvents.removeValue(forKey: slot)
                let base = Int(slot) * Self.keptTerms
                for index in base..<(base + Self.keptTerms) where keptTermIDs[index] >= 0 {
                    documentFrequencies[Int(keptTermIDs[index])] -= 1
                    keptTermIDs[index] = -1
                }
                heldCount -= 1
                retiredSlots.append(slot)
                staleEntries += 1
            }
            byHour.removeValue(forKey: hour)
        }
        // List entries of evicted members are skipped by lookups and swept out in one pass over
        // all lists once the evicted outnumber the members held (amortised: each entry is swept
        // a bounded number of times). Only then are their slots and unused terms reused.
        guard staleEntries > max(1_024, heldCount) else { return }
        for id in members.indices where termHashes[id] != 0 || documentFrequencies[id] > 0 || !members[id].isEmpty {
            members[id].removeAll { held[Int($0.slot)].isEvicted }
            if documentFrequencies[id] == 0 && termIDs[termHashes[id]] == Int32(id) {
                termIDs.removeValue(forKey: termHashes[id])
                termHashes[id] = 0
                saturated[id] = false
                members[id] = []
                freeTermIDs.append(Int32(id))
            }
        }
        staleEntries = 0
        // No list names an evicted slot any more: they can take new members.
        freeSlots.append(contentsOf: retiredSlots)
        retiredSlots.removeAll()
    }

    private mutating func intern(hash: UInt64) -> Int32 {
        if let id = termIDs[hash] { return id }
        let id: Int32
        if let free = freeTermIDs.popLast() {
            id = free
            termHashes[Int(id)] = hash
        } else {
            id = Int32(termHashes.count)
            termHashes.append(hash)
            documentFrequencies.append(0)
            saturated.append(false)
            members.append([])
        }
        termIDs[hash] = id
        return id
    }

    /// The number in an event name "ev-" + 16 lower-case hex digits; nil for any other name.
    static func eventCode(_ name: String) -> UInt64? {
        let bytes = Array(name.utf8)
        guard bytes.count == 19, bytes[0] == 0x65, bytes[1] == 0x76, bytes[2] == 0x2D else { return nil }  // "ev-"
        var code: UInt64 = 0
        for byte in bytes[3...] {
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: return nil
            }
            code = code << 4 | UInt64(digit)
        }
        return code
    }

    /// The name `eventCode` read the number from.
    static func eventName(_ code: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = Array("ev-".utf8)
        for shift in stride(from: 60, through: 0, by: -4) { bytes.append(digits[Int((code >> UInt64(shift)) & 0xF)]) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func documentFrequency(ofHash hash: UInt64) -> Int {
        termIDs[hash].map { Int(documentFrequencies[Int($0)]) } ?? 0
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
        let total = Double(heldCount + 20)
        return (1 + log(Double(count))) * log(total / Double(documentFrequency + 1))
    }

    private static func hour(_ time: Double) -> Int {
        Int((time / 3600).rounded(.down))
    }
}
