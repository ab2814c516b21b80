import Crypto
import FeedModel
import Foundation

/// The normalised form of a story's text used for hashing (never for storing): Unicode NFKC,
/// case folded, quotes and dashes unified, punctuation and white space collapsed to single spaces.
///
/// Two texts that differ only in typography, case or spacing have the same normalised form.
public enum HashNormalizer {
    public static func normalize(_ text: String) -> String {
        normalizeLatin(text) ?? normalizeUnicode(text)
    }

    /// The general path of `normalize` (internal so that a test can compare the two).
    static func normalizeUnicode(_ text: String) -> String {
        let folded = text.precomposedStringWithCompatibilityMapping
            .folding(options: [.caseInsensitive], locale: nil)
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in folded.unicodeScalars {
            let mapped = unify(scalar)
            if mapped.isASCII {
                switch asciiClass[Int(mapped.value)] {
                case .space:
                    pendingSpace = true
                    continue
                case .skip: continue
                case .keep: break
                }
            } else {
                let properties = mapped.properties
                if properties.isWhitespace || isPunctuation(mapped) {
                    pendingSpace = true
                    continue
                }
                if properties.generalCategory == .control || properties.generalCategory == .format { continue }
            }
            if pendingSpace && !out.isEmpty { out.append(" ") }
            pendingSpace = false
            out.append(mapped)
        }
        return String(out)
    }

    /// The same result for text of ASCII and Latin scalars (below U+0300, and the punctuation,
    /// currency and space block from U+2000 to U+20CF) without Foundation's
    /// Unicode machinery: each such scalar normalises on its own (no combining marks are in
    /// that range, and case folding is per character), so a table made with the general path
    /// gives it; nil when the text has another scalar, or one the table leaves to the general
    /// path.
    static func normalizeLatin(_ text: String) -> String? {
        var text = text
        // The tables are read once here, not per byte (each read of a static checks that it
        // was initialised).
        let (asciiClass, latinTable, punctuationTable) = (Self.asciiClass, Self.latinTable, Self.punctuationTable)
        return text.withUTF8 { bytes -> String? in
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            var pendingSpace = false
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                let mapped: LatinMapping
                if byte < 0x80 {
                    index += 1
                    switch asciiClass[Int(byte)] {
                    case .space: pendingSpace = true
                    case .skip: break
                    case .keep:
                        if pendingSpace && !out.isEmpty { out.append(0x20) }
                        pendingSpace = false
                        out.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
                    }
                    continue
                } else if byte >= 0xC2 && byte <= 0xCB, index + 1 < bytes.count {
                    // Two-byte UTF-8: U+0080 to U+02FF.
                    let value = (Int(byte & 0x1F) << 6) | Int(bytes[index + 1] & 0x3F)
                    index += 2
                    mapped = latinTable[value - 0x80]
                } else if byte == 0xE2, index + 2 < bytes.count, bytes[index + 1] >= 0x80, bytes[index + 1] <= 0x82 {
                    // Three-byte UTF-8 from U+2000: quotes, dashes, spaces, currency signs.
                    let value = 0x2000 | (Int(bytes[index + 1] & 0x3F) << 6) | Int(bytes[index + 2] & 0x3F)
                    index += 3
                    mapped = value < 0x2000 + punctuationTable.count ? punctuationTable[value - 0x2000] : .unknown
                } else {
                    return nil
                }
                switch mapped.kind {
                case .space: pendingSpace = true
                case .skip: break
                case .unknown: return nil
                case .bytes:
                    if pendingSpace && !out.isEmpty { out.append(0x20) }
                    pendingSpace = false
                    var packed = mapped.packed
                    for _ in 0..<mapped.count {
                        out.append(UInt8(truncatingIfNeeded: packed))
                        packed >>= 8
                    }
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// What one scalar becomes: a space, nothing, up to eight bytes (packed, first byte lowest),
    /// or unknown (left to the general path). A plain value, so the loop above counts no
    /// references.
    private struct LatinMapping {
        enum Kind { case space, skip, unknown, bytes }
        var kind: Kind
        var count: Int = 0
        var packed: UInt64 = 0

        static let space = LatinMapping(kind: .space)
        static let skip = LatinMapping(kind: .skip)
        static let unknown = LatinMapping(kind: .unknown)

        init(kind: Kind) { self.kind = kind }

        init?(bytes: [UInt8]) {
            guard bytes.count <= 8 else { return nil }
            kind = .bytes
            count = bytes.count
            for (offset, byte) in bytes.enumerated() { packed |= UInt64(byte) << UInt64(8 * offset) }
        }
    }

    /// U+0080 to U+02FF as the general path treats each between two letters: "a b" a space,
    /// "ab" dropped, "aXb" replaced by X; anything else is left to the general path.
    private static let latinTable: [LatinMapping] = (0x80..<0x300).map { value in
        guard let scalar = Unicode.Scalar(UInt32(value)) else { return .unknown }
        return mapping(scalar)
    }

    /// U+2000 to U+20CF (general punctuation, super- and subscripts, currency signs: all
    /// starters that compose with nothing), the same way.
    private static let punctuationTable: [LatinMapping] = (0x2000..<0x20D0).map { value in
        guard let scalar = Unicode.Scalar(UInt32(value)) else { return .unknown }
        return mapping(scalar)
    }

    private static func mapping(_ scalar: Unicode.Scalar) -> LatinMapping {
        let result = normalizeUnicode("a" + String(Character(scalar)) + "b")
        if result == "a b" { return .space }
        if result == "ab" { return .skip }
        guard result.hasPrefix("a"), result.hasSuffix("b"), result.count > 2 else { return .unknown }
        let middle = Array(result.utf8.dropFirst().dropLast())
        guard !middle.contains(0x20) else { return .unknown }
        return LatinMapping(bytes: middle) ?? .unknown
    }

    private enum ASCIIClass { case keep, space, skip }

    /// Per ASCII code: white space and punctuation become a space, controls are dropped. The
    /// characters `unify` maps into ASCII (' and ") are punctuation too.
    private static let asciiClass: [ASCIIClass] = (0..<128).map { value in
        let scalar = unify(Unicode.Scalar(UInt8(value)))
        if scalar.properties.isWhitespace || isPunctuation(scalar) { return .space }
        if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format { return .skip }
        return .keep
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

/// Content fingerprints of a story, all over the hash-normalised body (the headline only when there
/// is no body, and in front of it in the SHA-256 when the body is short): SHA-256 for exact
/// duplicates; for near duplicates a 64-bit SimHash and two MinHash
/// signatures of its five-word shingles, one of the whole text and one of its lead (the first
/// `leadWords` words of the paragraphs long enough to be prose), which is what a teaser or a
/// truncated copy keeps.
public struct TextFingerprint: Sendable, Equatable {
    /// Lower-case hex SHA-256 of the normalised text.
    public var sha256: String
    /// 64-bit SimHash of the prose's five-word shingles.
    public var simhash: UInt64
    /// MinHash signature of the prose's shingles (`MinHashSignature.wholeSlots` slots).
    public var signature: MinHashSignature
    /// MinHash signature of the lead's shingles (`MinHashSignature.leadSlots` slots).
    public var leadSignature: MinHashSignature
    /// Hash of the normalised headline (0 when there is none): stories under one headline are
    /// near-duplicate candidates however short their text.
    public var headlineHash: UInt64 = 0

    /// Words in the lead.
    public static let leadWords = 50
    /// Paragraphs shorter than this many words (captions, credits, boilerplate lines) are left
    /// out of the near-duplicate fingerprints, not out of the SHA-256.
    public static let shortParagraphWords = 10

    /// The 16 hex digits that end a corpus file name: the first 64 bits of the SHA-256.
    public var nameTail: String { String(sha256.prefix(16)) }

    /// The SimHash as 16 lower-case hex digits.
    public var simhashHex: String { Self.hex(simhash) }

    static func hex(_ value: UInt64) -> String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    public init(sha256: String, simhash: UInt64, signature: MinHashSignature, leadSignature: MinHashSignature) {
        self.sha256 = sha256
        self.simhash = simhash
        self.signature = signature
        self.leadSignature = leadSignature
    }

    /// The hash of a normalised headline (0 for none), as `headlineHash` holds it.
    public static func headlineHash(_ headline: String) -> UInt64 {
        let normalized = HashNormalizer.normalize(headline)
        guard !normalized.isEmpty else { return 0 }
        return Shingles.hashes([normalized]).first ?? 0
    }

    /// Bodies shorter than this many words are hashed with their headline: a teaser of a
    /// sentence or two ("Officials did not immediately respond to a request for comment.") is
    /// not enough to call two stories the same text.
    public static let shortBodyWords = 30

    /// The text the SHA-256 covers: the normalised body, preceded by the normalised headline when
    /// the body is short.
    static func hashedText(body: String, headline: String, hasBody: Bool) -> String {
        guard hasBody else { return body }
        var words = 0
        for byte in body.utf8 where byte == 0x20 {
            words += 1
            if words >= shortBodyWords { return body }
        }
        if words + 1 >= shortBodyWords { return body }
        let title = HashNormalizer.normalize(headline)
        return title.isEmpty ? body : title + " " + body
    }

    /// The SHA-256 an earlier version gave the story (the body alone, whatever its length), so
    /// that `verify` accepts files stored before short bodies were hashed with their headline.
    public static func bodyOnlySHA256(of story: StoryText) -> String {
        sha256(normalizedBody(of: story).body)
    }

    /// The distinct five-word shingles of a story's prose (what the near-duplicate fingerprints
    /// are made of), for the exact check.
    public static func proseShingles(of story: StoryText) -> [UInt64] {
        let (paragraphs, body) = normalizedBody(of: story)
        return Shingles.hashes(wordHashes: proseWordHashes(paragraphs: paragraphs, fallback: body))
    }

    /// The hash-normalised paragraphs and body (the headline when there is no paragraph).
    /// Normalising each paragraph and joining with one space equals normalising the body (line
    /// breaks collapse to a space), so the text is normalised once.
    private static func normalizedBody(of story: StoryText) -> (paragraphs: [String], body: String) {
        let paragraphs = story.paragraphs.map(HashNormalizer.normalize).filter { !$0.isEmpty }
        return (paragraphs, story.paragraphs.isEmpty ? HashNormalizer.normalize(story.headline) : paragraphs.joined(separator: " "))
    }

    /// The `Shingles.wordHash` of each word of the paragraphs long enough to be prose (all the
    /// words of `fallback` when none is).
    static func proseWordHashes(paragraphs: [String], fallback: String) -> [UInt64] {
        var hashes: [UInt64] = []
        var paragraphHashes: [UInt64] = []
        for paragraph in paragraphs {
            paragraphHashes.removeAll(keepingCapacity: true)
            Shingles.appendWordHashes(of: paragraph, to: &paragraphHashes)
            if paragraphHashes.count >= Self.shortParagraphWords { hashes.append(contentsOf: paragraphHashes) }
        }
        if hashes.isEmpty { Shingles.appendWordHashes(of: fallback, to: &hashes) }
        return hashes
    }

    /// Fingerprints a story. The headline is left out of all but the SHA-256 of a short body, so
    /// that a syndicated copy with another headline is still a duplicate; a story without a body
    /// is hashed by its headline.
    public init(story: StoryText) {
        self = Self.withShingles(story: story).fingerprint
    }

    /// The fingerprints of a story and its distinct prose shingles (`proseShingles`), which
    /// they are made of.
    public static func withShingles(story: StoryText) -> (fingerprint: TextFingerprint, shingles: [UInt64]) {
        let (paragraphs, body) = Self.normalizedBody(of: story)
        let wordHashes = Self.proseWordHashes(paragraphs: paragraphs, fallback: body)
        let shingles = Shingles.hashes(wordHashes: wordHashes)
        var fingerprint = TextFingerprint(sha256: Self.sha256(Self.hashedText(body: body, headline: story.headline, hasBody: !story.paragraphs.isEmpty)),
                                          wordHashes: wordHashes, shingles: shingles)
        fingerprint.headlineHash = Self.headlineHash(story.headline)
        return (fingerprint, shingles)
    }

    /// Fingerprints text that is already hash-normalised, all of it prose.
    public init(normalizedText: String) {
        var wordHashes: [UInt64] = []
        Shingles.appendWordHashes(of: normalizedText, to: &wordHashes)
        self.init(sha256: Self.sha256(normalizedText), wordHashes: wordHashes, shingles: Shingles.hashes(wordHashes: wordHashes))
    }

    private init(sha256: String, wordHashes: [UInt64], shingles: [UInt64]) {
        let lead = wordHashes.count > Self.leadWords ? Shingles.hashes(wordHashes: wordHashes.prefix(Self.leadWords)) : shingles
        self.init(sha256: sha256, simhash: SimHash.compute(shingles: shingles),
                  signature: MinHashSignature(shingles: shingles, slotCount: MinHashSignature.wholeSlots),
                  leadSignature: MinHashSignature(shingles: lead, slotCount: MinHashSignature.leadSlots))
    }

    static func sha256(_ text: String) -> String {
        DecimalText.hex(SHA256.hash(data: Array(text.utf8)))
    }
}

/// Charikar's SimHash over a text's five-word shingles, each weighing the same.
///
/// Shingles, not single words: with words weighted by frequency every English text leans towards
/// the same function-word profile, so the bits are biased and unrelated stories land a few bits
/// apart by chance (see the README). A SimHash match is only ever a candidate: `Deduplicator`
/// verifies it with the MinHash signatures before anything is dropped.
public enum SimHash {
    /// The SimHash of hash-normalised text.
    public static func compute(_ normalizedText: String) -> UInt64 {
        compute(shingles: Shingles.hashes(normalizedText.split(separator: " ")))
    }

    /// The SimHash of a set of shingle hashes.
    public static func compute(shingles: [UInt64]) -> UInt64 {
        guard !shingles.isEmpty else { return 0 }
        // Bit i of the result is set when more than half the shingles' hashes have it set (the
        // sum of +1 for a set bit and -1 for a clear one is positive). The set bits are counted a
        // byte of the hash at a time: `spread` turns a byte into eight one-byte counters, so
        // eight additions count 64 bits; the byte counters are emptied before they can overflow.
        var ones = [Int](repeating: 0, count: 64)
        var packed = [UInt64](repeating: 0, count: 8)
        var pending = 0
        func flush() {
            for group in 0..<8 {
                for bit in 0..<8 { ones[group * 8 + bit] += Int((packed[group] >> UInt64(8 * bit)) & 0xFF) }
                packed[group] = 0
            }
            pending = 0
        }
        for shingle in shingles {
            let hash = Shingles.mix(shingle)
            for group in 0..<8 { packed[group] &+= spread[Int((hash >> UInt64(8 * group)) & 0xFF)] }
            pending += 1
            if pending == 255 { flush() }
        }
        flush()
        var result: UInt64 = 0
        for bit in 0..<64 where 2 * ones[bit] > shingles.count {
            result |= 1 << UInt64(bit)
        }
        return result
    }

    /// Byte value b as eight one-byte counters: byte i of the result is bit i of b.
    private static let spread: [UInt64] = (0..<256).map { (value: Int) -> UInt64 in
        var counters: UInt64 = 0
        for bit in 0..<8 where (value >> bit) & 1 == 1 { counters |= 1 << UInt64(8 * bit) }
        return counters
    }

    /// Number of differing bits.
    public static func distance(_ a: UInt64, _ b: UInt64) -> Int {
        (a ^ b).nonzeroBitCount
    }
}
