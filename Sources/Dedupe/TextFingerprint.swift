import Crypto
import FeedModel
import Foundation

/// The normalised form of a story's text used for hashing (never for storing): Unicode NFKC,
/// case folded, quotes and dashes unified, punctuation and white space collapsed to single spaces.
///
/// Two texts that differ only in typography, case or spacing have the same normalised form.
public enum HashNormalizer {
    public static func normalize(_ text: String) -> String {
        let folded = text.precomposedStringWithCompatibilityMapping
            .folding(options: [.caseInsensitive], locale: nil)
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in folded.unicodeScalars {
            let mapped = unify(scalar)
            let properties = mapped.properties
            if properties.isWhitespace || isPunctuation(mapped) {
                pendingSpace = true
                continue
            }
            if properties.generalCategory == .control || properties.generalCategory == .format { continue }
            if pendingSpace && !out.isEmpty { out.append(" ") }
            pendingSpace = false
            out.append(mapped)
        }
        return String(out)
    }

    private static func unify(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        switch scalar.value {
        case 0x2018, 0x2019, 0x201A, 0x201B, 0x2032, 0x0060, 0x00B4: return "'"
        case 0x201C, 0x201D, 0x201E, 0x201F, 0x2033, 0x00AB, 0x00BB: return "\""
        case 0x2010...0x2015, 0x2212, 0xFE58, 0xFE63, 0xFF0D: return "-"
        default: return scalar
        }
    }

    private static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }
}

/// Content fingerprints of a story: SHA-256 for exact duplicates and two 64-bit SimHashes for
/// near duplicates, all over the hash-normalised body (the headline only when there is no body).
///
/// `simhash` covers the whole text; `leadSimHash` covers its lead (the first
/// `leadWords` words of the paragraphs long enough to be prose), which survives what syndication
/// does to the end of a story: truncation, a paragraph dropped, a footer of boilerplate.
public struct TextFingerprint: Sendable, Equatable {
    /// Lower-case hex SHA-256 of the normalised text.
    public var sha256: String
    /// 64-bit SimHash of the normalised text's words.
    public var simhash: UInt64
    /// 64-bit SimHash of the lead.
    public var leadSimHash: UInt64

    /// Words in the lead fingerprint.
    public static let leadWords = 80
    /// Paragraphs shorter than this many words (captions, credits, boilerplate lines) are left
    /// out of the SimHashes, not out of the SHA-256.
    public static let shortParagraphWords = 10

    /// The 16 hex digits that end a corpus file name: the first 64 bits of the SHA-256.
    public var nameTail: String { String(sha256.prefix(16)) }

    /// The SimHash as 16 lower-case hex digits.
    public var simhashHex: String { Self.hex(simhash) }
    public var leadSimHashHex: String { Self.hex(leadSimHash) }

    static func hex(_ value: UInt64) -> String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    public init(sha256: String, simhash: UInt64, leadSimHash: UInt64) {
        self.sha256 = sha256
        self.simhash = simhash
        self.leadSimHash = leadSimHash
    }

    /// Fingerprints a story. The headline is left out so that a syndicated copy with another
    /// headline is still a duplicate; a story without a body is hashed by its headline.
    public init(story: StoryText) {
        // Normalising each paragraph and joining with one space equals normalising the body
        // (line breaks collapse to a space), so the text is normalised once.
        let paragraphs = story.paragraphs.map(HashNormalizer.normalize).filter { !$0.isEmpty }
        let normalized = story.paragraphs.isEmpty ? HashNormalizer.normalize(story.headline) : paragraphs.joined(separator: " ")
        let prose = paragraphs.filter { $0.split(separator: " ").count >= Self.shortParagraphWords }
        let proseText = prose.isEmpty ? normalized : prose.joined(separator: " ")
        let words = proseText.split(separator: " ")
        self.init(sha256: Self.sha256(normalized), simhash: SimHash.compute(proseText),
                  leadSimHash: SimHash.compute(words.prefix(Self.leadWords).joined(separator: " ")))
    }

    public init(normalizedText: String) {
        let words = normalizedText.split(separator: " ")
        self.init(sha256: Self.sha256(normalizedText), simhash: SimHash.compute(normalizedText),
                  leadSimHash: SimHash.compute(words.prefix(Self.leadWords).joined(separator: " ")))
    }

    static func sha256(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Whether `other` is a near duplicate: identical text, or either SimHash within `distance`.
    public func isNearDuplicate(of other: TextFingerprint, distance: Int) -> Bool {
        sha256 == other.sha256 || SimHash.distance(simhash, other.simhash) <= distance
            || SimHash.distance(leadSimHash, other.leadSimHash) <= distance
    }
}

/// Charikar's SimHash over word shingles (single words by default, weighted by frequency) with a
/// 64-bit FNV-1a feature hash.
public enum SimHash {
    /// Words per shingle (1: the features are the words themselves, weighted by frequency).
    public static let shingleSize = 1


    public static func compute(_ normalizedText: String) -> UInt64 {
        let words = normalizedText.split(separator: " ")
        guard !words.isEmpty else { return 0 }
        var counts: [UInt64: Int] = [:]
        let count = max(1, words.count - shingleSize + 1)
        for start in 0..<count {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for word in words[start..<min(words.count, start + shingleSize)] {
                for byte in word.utf8 {
                    hash ^= UInt64(byte)
                    hash = hash &* 0x0000_0100_0000_01B3
                }
                hash ^= 0x20
                hash = hash &* 0x0000_0100_0000_01B3
            }
            counts[mix(hash), default: 0] += 1
        }
        // Each distinct word weighs its frequency. Measured on bench/dedupe-quality.py, plain term
        // frequency beat 2- and 3-word shingles, log/sqrt/binary weights and stop-word removal:
        // frequent words make the hash stable under edits, and precision stayed at 1.0.
        var weights = [Int](repeating: 0, count: 64)
        for (hash, weight) in counts {
            for bit in 0..<64 {
                weights[bit] += (hash >> UInt64(bit)) & 1 == 1 ? weight : -weight
            }
        }
        var result: UInt64 = 0
        for bit in 0..<64 where weights[bit] > 0 {
            result |= 1 << UInt64(bit)
        }
        return result
    }

    /// Number of differing bits.
    public static func distance(_ a: UInt64, _ b: UInt64) -> Int {
        (a ^ b).nonzeroBitCount
    }

    // splitmix64 finaliser: FNV alone leaves the high bits poorly mixed for short inputs.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
