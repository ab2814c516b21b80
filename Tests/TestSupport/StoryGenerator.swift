/// Deterministic synthetic news text (for the dedupe and cluster tests): sentences of varied words drawn from a large vocabulary
/// (Zipf-like: frequent function words, rarer content words), as distinct stories are.
public struct StoryGenerator: Sendable {
    private var state: UInt64
    public static let functionWords = ["the", "a", "of", "to", "in", "and", "said", "on", "for", "that", "with", "as", "by", "at", "from",
                                "it", "was", "is", "its", "has", "would", "after", "over", "an", "be", "were", "their", "which"]
    public static let names = ["Kyiv", "Berlin", "Macron", "Scholz", "Meloni", "NATO", "Warsaw", "Lisbon", "Ankara", "Tokyo", "Nairobi"]

    public init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    public mutating func next(_ bound: Int) -> Int {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Int(state % UInt64(bound))
    }

    public mutating func word() -> String {
        if next(3) == 0 { return Self.functionWords[next(Self.functionWords.count)] }
        if next(20) == 0 { return Self.names[next(Self.names.count)] }
        let syllables = ["ka", "ro", "mi", "ten", "sul", "va", "dor", "pe", "lin", "gra", "tu", "nes", "ba", "qui", "fer", "so"]
        return (0..<(2 + next(3))).map { _ in syllables[next(syllables.count)] }.joined()
    }

    public mutating func sentence() -> String {
        let words = (0..<(8 + next(14))).map { _ in word() }
        return words.joined(separator: " ").prefix(1).uppercased() + words.joined(separator: " ").dropFirst() + "."
    }

    /// A headline and `paragraphs` paragraphs of two to four sentences.
    public mutating func storyParts(paragraphs: Int = 8) -> (headline: String, paragraphs: [String]) {
        (sentence(), (0..<paragraphs).map { _ in (0..<(2 + next(3))).map { _ in sentence() }.joined(separator: " ") })
    }
}
