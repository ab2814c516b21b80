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

/// Content fingerprints of a story: SHA-256 for exact duplicates and a 64-bit SimHash for near
/// duplicates, both over the hash-normalised body (the headline only when there is no body).
public struct TextFingerprint: Sendable, Equatable {
    /// Lower-case hex SHA-256 of the normalised text.
    public var sha256: String
    /// 64-bit SimHash over word 3-shingles of the normalised text.
    public var simhash: UInt64

    /// The 16 hex digits that end a corpus file name: the first 64 bits of the SHA-256.
    public var nameTail: String { String(sha256.prefix(16)) }

    /// The SimHash as 16 lower-case hex digits.
    public var simhashHex: String {
        let hex = String(simhash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    public init(sha256: String, simhash: UInt64) {
        self.sha256 = sha256
        self.simhash = simhash
    }

    /// Fingerprints a story. The headline is left out so that a syndicated copy with another
    /// headline is still an exact duplicate; a story without a body is hashed by its headline.
    public init(story: StoryText) {
        let source = story.paragraphs.isEmpty ? story.headline : story.body
        self.init(normalizedText: HashNormalizer.normalize(source))
    }

    public init(normalizedText: String) {
        let digest = SHA256.hash(data: Array(normalizedText.utf8))
        sha256 = digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        simhash = SimHash.compute(normalizedText)
    }
}

/// Charikar's SimHash over word shingles with a 64-bit FNV-1a feature hash.
public enum SimHash {
    /// Words per shingle.
    public static let shingleSize = 3

    public static func compute(_ normalizedText: String) -> UInt64 {
        let words = normalizedText.split(separator: " ")
        guard !words.isEmpty else { return 0 }
        var weights = [Int](repeating: 0, count: 64)
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
            hash = mix(hash)
            for bit in 0..<64 {
                weights[bit] += (hash >> UInt64(bit)) & 1 == 1 ? 1 : -1
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
