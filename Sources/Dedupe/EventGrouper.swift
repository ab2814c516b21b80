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
            var word = ""
            func finish(_ next: Character?) {
                defer {
                    word = ""
                }
                guard !word.isEmpty else { return }
                if let term = EventTerms.term(word, sentenceStart: sentenceStart) { counts[term, default: 0] += 1 }
                sentenceStart = next.map { ".!?:;\"“”".contains($0) } ?? false
            }
            for character in line {
                if character.isLetter || character.isNumber || (character == "," && word.first?.isNumber == true) {
                    word.append(character)
                } else if character == "'" || character == "’" {
                    finish(nil)  // "Russia's": the possessive ends the word
                    sentenceStart = false
                } else {
                    let wasEmpty = word.isEmpty
                    finish(character)
                    if wasEmpty, ".!?:;".contains(character) { sentenceStart = true }
                }
            }
            finish(nil)
        }
        self.counts = counts.filter { $0.value > 0 }
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
        guard let first = raw.first else { return nil }
        if first.isNumber {
            let digits = raw.filter(\.isNumber)
            guard digits.count >= 3, let value = Int(digits) else { return nil }
            if digits.count == 4 && (1900...2100).contains(value) { return nil }  // years say little
            return digits
        }
        guard first.isUppercase, !sentenceStart, raw.count >= 3 else { return nil }
        let folded = raw.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
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
/// published within the window (TF-IDF cosine over `EventTerms`), else starts a new event.
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

    public var window: TimeInterval
    public var threshold: Double
    private var members: [Member] = []
    private var documentFrequency: [String: Int] = [:]
    private var documents = 0

    public init(window: TimeInterval = 48 * 3600, threshold: Double = 0.27) {
        self.window = window
        self.threshold = threshold
    }

    /// Adds a story whose event is already known (loading the recent state at start-up).
    public mutating func add(_ member: Member) {
        members.append(member)
        documents += 1
        for term in member.terms.counts.keys { documentFrequency[term, default: 0] += 1 }
    }

    /// The event for a new story at `at` with `terms`, and the similarity that decided it
    /// (nil when it starts a new event, named `newEvent`). Does not add the story.
    public func assign(terms: EventTerms, at: Date, newEvent: String) -> (event: String, similarity: Double?) {
        var best: (event: String, similarity: Double)?
        let query = weights(terms)
        for member in members where abs(member.at.timeIntervalSince(at)) <= window {
            let similarity = cosine(query, weights(member.terms))
            if similarity >= threshold, similarity > (best?.similarity ?? 0) { best = (member.event, similarity) }
        }
        return best.map { ($0.event, $0.similarity) } ?? (newEvent, nil)
    }

    /// TF-IDF cosine similarity of two term sets under the current document frequencies.
    public func similarity(_ a: EventTerms, _ b: EventTerms) -> Double {
        cosine(weights(a), weights(b))
    }

    /// Forgets stories older than twice the window before `now` (they can no longer match).
    public mutating func prune(before now: Date) {
        members.removeAll { now.timeIntervalSince($0.at) > 2 * window }
    }

    private func weights(_ terms: EventTerms) -> [String: Double] {
        // Smoothed IDF: with few stories stored, nothing is "common" yet.
        let total = Double(documents + 20)
        var vector: [String: Double] = [:]
        for (term, count) in terms.counts {
            let idf = log(total / Double(documentFrequency[term, default: 0] + 1))
            vector[term] = (1 + log(Double(count))) * idf
        }
        return vector
    }

    private func cosine(_ a: [String: Double], _ b: [String: Double]) -> Double {
        var dot = 0.0
        for (term, weight) in a { if let other = b[term] { dot += weight * other } }
        let normA = a.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let normB = b.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return normA > 0 && normB > 0 ? dot / (normA * normB) : 0
    }
}
