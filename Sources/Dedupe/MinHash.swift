/// Word shingles of hash-normalised text: every run of `size` consecutive words, hashed to 64 bits.
///
/// Five-word shingles: two unrelated news stories share almost none (measured on 4,500 generated
/// wire stories built from one shared phrase book: mean Jaccard 0.03, maximum 0.06), while a
/// lightly edited copy keeps nearly all (0.95 and more).
public enum Shingles {
    public static let size = 5

    /// The distinct shingle hashes of `words` (a text shorter than `size` words is one shingle).
    public static func hashes<Words: Collection>(_ words: Words) -> [UInt64] where Words.Element: StringProtocol {
        hashes(wordHashes: words.map(wordHash))
    }

    /// The distinct shingle hashes of words given by their `wordHash`es, in the order of their
    /// first occurrence.
    public static func hashes<Hashes: RandomAccessCollection>(wordHashes: Hashes) -> [UInt64] where Hashes.Element == UInt64, Hashes.Index == Int {
        guard !wordHashes.isEmpty else { return [] }
        let count = max(1, wordHashes.count - size + 1)
        var result: [UInt64] = []
        result.reserveCapacity(count)
        var seen = MixedHashSet(capacity: count)
        let first = wordHashes.startIndex
        for start in 0..<count {
            var hash: UInt64 = 0x243F_6A88_85A3_08D3
            for index in start..<min(wordHashes.count, start + size) {
                hash = mix(hash ^ wordHashes[first + index])
            }
            if seen.insert(hash) { result.append(hash) }
        }
        return result
    }

    /// How many hashes two sets of distinct shingle hashes (as `hashes` returns) have in common.
    public static func sharedCount(_ a: [UInt64], _ b: [UInt64]) -> Int {
        let (small, large) = a.count <= b.count ? (a, b) : (b, a)
        guard !small.isEmpty else { return 0 }
        var set = MixedHashSet(capacity: small.count)
        for hash in small { set.insert(hash) }
        return large.reduce(0) { set.contains($1) ? $0 + 1 : $0 }
    }

    /// Appends the `wordHash` of each space-separated word of `text` (hash-normalised text: its
    /// words are separated by single spaces), without making a string per word.
    static func appendWordHashes(of text: String, to hashes: inout [UInt64]) {
        var text = text
        text.withUTF8 { bytes in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            var inWord = false
            for byte in bytes {
                if byte == 0x20 {
                    if inWord { hashes.append(hash) }
                    hash = 0xcbf2_9ce4_8422_2325
                    inWord = false
                } else {
                    hash ^= UInt64(byte)
                    hash = hash &* 0x0000_0100_0000_01B3
                    inWord = true
                }
            }
            if inWord { hashes.append(hash) }
        }
    }

    static func wordHash<Word: StringProtocol>(_ word: Word) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in word.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// splitmix64's finaliser: a cheap, well-mixed 64-bit permutation.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A MinHash signature of a shingle set (Broder, 1997): for each of `slots` hash functions the
/// smallest value over the set, of which 16 bits are kept in the state and the low 8 of those are
/// compared (b-bit MinHash, Li and König, 2010: at b = 8 a chance agreement is 1 in 256, which the
/// estimate corrects for, and an index holds a byte a slot). The share of equal slots of two
/// signatures estimates the Jaccard similarity of the two sets; with the set sizes it also
/// estimates how much of the smaller set the larger contains.
public struct MinHashSignature: Sendable, Equatable {
    /// The high 16 bits of each slot's minimum; empty for an empty set.
    public var slots: [UInt16]
    /// Distinct shingles in the set.
    public var shingleCount: Int

    public init(slots: [UInt16], shingleCount: Int) {
        self.slots = slots
        self.shingleCount = shingleCount
    }

    /// The signature of `shingles` with `slotCount` hash functions.
    public init(shingles: [UInt64], slotCount: Int) {
        shingleCount = shingles.count
        guard !shingles.isEmpty else {
            slots = []
            return
        }
        var slots = [UInt16](repeating: 0, count: slotCount)
        let seeds = Self.seeds
        let multipliers = Self.multipliers
        shingles.withUnsafeBufferPointer { shingles in
            // Slot i hashes each shingle with its own odd multiplier and seed (multiply-xorshift);
            // a slot at a time, so that its minimum stays in a register.
            for slot in 0..<slotCount {
                let seed = seeds[slot]
                let multiplier = multipliers[slot]
                var minimum = UInt64.max
                for shingle in shingles {
                    var value = (shingle ^ seed) &* multiplier
                    value ^= value >> 29
                    minimum = min(minimum, value)
                }
                slots[slot] = UInt16(truncatingIfNeeded: minimum >> 48)
            }
        }
        self.slots = slots
    }

    /// Estimated Jaccard similarity: the share of slots whose compared bits (`compared(_:)`) are
    /// equal, corrected for the 1-in-256 chance that two different minima agree on them.
    public func jaccard(_ other: MinHashSignature) -> Double {
        guard !slots.isEmpty, slots.count == other.slots.count else { return 0 }
        var equal = 0
        for index in slots.indices where Self.compared(slots[index]) == Self.compared(other.slots[index]) { equal += 1 }
        let raw = Double(equal) / Double(slots.count)
        let chance = 1.0 / 256
        return max(0, (raw - chance) / (1 - chance))
    }

    /// Estimated share of the smaller set's shingles that the larger set contains, from the
    /// Jaccard estimate and the two set sizes: |A ∩ B| = J (|A| + |B|) / (1 + J).
    public func containment(_ other: MinHashSignature, jaccard: Double? = nil) -> Double {
        let smaller = min(shingleCount, other.shingleCount)
        guard smaller > 0 else { return 0 }
        let similarity = jaccard ?? self.jaccard(other)
        let intersection = similarity * Double(shingleCount + other.shingleCount) / (1 + similarity)
        return min(1, intersection / Double(smaller))
    }

    /// Little-endian bytes: the shingle count (4 bytes), then the slots (2 bytes each).
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4 + 2 * slots.count)
        let count = UInt32(clamping: shingleCount)
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: count >> UInt32(shift))) }
        for slot in slots {
            out.append(UInt8(truncatingIfNeeded: slot))
            out.append(UInt8(truncatingIfNeeded: slot >> 8))
        }
        return out
    }

    /// Reads `bytes`; nil when they are not a serialised signature.
    public init?(bytes: some Collection<UInt8>) {
        let bytes = Array(bytes)
        guard bytes.count >= 4, bytes.count % 2 == 0 else { return nil }
        var count: UInt32 = 0
        for index in 0..<4 { count |= UInt32(bytes[index]) << UInt32(8 * index) }
        var slots: [UInt16] = []
        slots.reserveCapacity((bytes.count - 4) / 2)
        var index = 4
        while index < bytes.count {
            slots.append(UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8)
            index += 2
        }
        self.init(slots: slots, shingleCount: Int(count))
    }

    private static let seeds: [UInt64] = (0..<128).map { Shingles.mix(UInt64($0) &* 0x5851_F42D_4C95_7F2D) }
    private static let multipliers: [UInt64] = (0..<128).map { Shingles.mix(UInt64($0) &+ 0x1405_7B7E_F767_814F) | 1 }

    /// The bits of a slot that estimates and band indexes compare (the low 8 of the 16 kept).
    @inline(__always)
    public static func compared(_ slot: UInt16) -> UInt8 { UInt8(truncatingIfNeeded: slot) }

    /// Slots in the whole-text signature and in the lead signature.
    public static let wholeSlots = 64
    public static let leadSlots = 24
}

/// Finds stored MinHash signatures that agree with a query on every slot of at least one band
/// (locality-sensitive hashing, banding technique: Indyk and Motwani; Leskovec, Rajaraman, Ullman,
/// "Mining of Massive Datasets", ch. 3). With `bands` bands of `rows` slots, two sets of Jaccard
/// similarity J become candidates with probability 1 - (1 - J^rows)^bands: for 16 x 4, 0.99 at
/// J = 0.7 and 0.0001 at J = 0.05.
///
/// It keeps the signatures themselves (flat, the compared 8 bits of each slot) and one
/// `PositionTable` for all bands, keyed by a hash of the band's slots: a probe compares the
/// band's slots of the stored signature, so an entry costs 4 bytes and a lookup probes `bands`
/// short runs, never the stored signatures as a whole. Positions are limited to 2^27 - 1 (134
/// million signatures).
public struct BandIndex: Sendable {
    public let bands: Int
    public let rows: Int
    /// Slots per signature (at least `bands * rows`).
    public let slotCount: Int
    private var table: PositionTable
    private var slots: [UInt8] = []
    private var shingleCounts: [Int32] = []
    /// Signatures added; positions run from 0.
    public var count: Int { shingleCounts.count }

    public init(bands: Int, rows: Int, slotCount: Int, capacity: Int = 0) {
        precondition(bands > 0 && rows > 0 && slotCount >= bands * rows, "bands x rows must fit the signature")
        self.bands = bands
        self.rows = rows
        self.slotCount = slotCount
        // Loaded at start-up to 2/3: room to grow before the first rebuild.
        table = PositionTable(size: capacity * bands * 3 / 2 + 1)
        slots.reserveCapacity(capacity * slotCount)
        shingleCounts.reserveCapacity(capacity)
    }

    /// Adds the signature as the next position (returned). A signature of an empty text (no
    /// slots) is kept without band entries, so it is never a candidate.
    @discardableResult
    public mutating func insert(_ signature: MinHashSignature) -> Int32 {
        let position = Int32(count)
        precondition(Int(position) < PositionTable.positionLimit, "a band index holds at most 2^27 - 1 signatures")
        let complete = signature.slots.count == slotCount
        let start = slots.count
        slots.append(contentsOf: repeatElement(0, count: slotCount))
        if complete {
            signature.slots.withUnsafeBufferPointer { source in
                slots.withUnsafeMutableBufferPointer { target in
                    for index in 0..<slotCount { target[start + index] = MinHashSignature.compared(source[index]) }
                }
            }
        }
        shingleCounts.append(complete ? Int32(clamping: signature.shingleCount) : 0)
        guard complete else { return position }
        if table.isFull(adding: bands) { grow() }
        for band in 0..<bands { place(position, band: band) }
        return position
    }

    /// The signature stored at `position`.
    public func signature(at position: Int) -> MinHashSignature {
        MinHashSignature(slots: slots[position * slotCount..<(position + 1) * slotCount].map(UInt16.init),
                         shingleCount: Int(shingleCounts[position]))
    }

    /// The shingle count of the signature at `position` (0 for an empty text).
    public func shingleCount(at position: Int) -> Int { Int(shingleCounts[position]) }

    /// Every position sharing all the slots of at least one band with `signature`, each once, in
    /// ascending order.
    public func candidates(_ signature: MinHashSignature) -> [Int32] {
        guard signature.slots.count == slotCount else { return [] }
        var found: [Int32] = []
        let compared = signature.slots.map(MinHashSignature.compared)
        compared.withUnsafeBufferPointer { query in
            slots.withUnsafeBufferPointer { stored in
                for band in 0..<bands {
                    let start = band * rows
                    table.forEachPosition(key: Self.key(query.baseAddress! + start, rows: rows, band: band)) { position in
                        guard shingleCounts[position] > 0 else { return }
                        let base = position * slotCount + start
                        for row in 0..<rows where stored[base + row] != query[start + row] { return }
                        found.append(Int32(position))
                    }
                }
            }
        }
        if found.count > 1 {
            found.sort()
            var unique: [Int32] = []
            unique.reserveCapacity(found.count)
            for position in found where unique.last != position { unique.append(position) }
            return unique
        }
        return found
    }

    /// Bytes held by the table and the signatures (for benchmarks).
    public var memoryBytes: Int { table.memoryBytes + slots.count + shingleCounts.count * 4 }

    private static func key(_ rowsStart: UnsafePointer<UInt8>, rows: Int, band: Int) -> UInt64 {
        var hash = UInt64(band) &* 0x9E37_79B9_7F4A_7C15
        for row in 0..<rows { hash = Shingles.mix(hash ^ UInt64(rowsStart[row])) }
        return hash
    }

    private mutating func place(_ position: Int32, band: Int) {
        let key = slots.withUnsafeBufferPointer { stored in
            Self.key(stored.baseAddress! + Int(position) * slotCount + band * rows, rows: rows, band: band)
        }
        table.insert(position, key: key)
    }

    private mutating func grow() {
        table = table.grown()
        for position in 0..<count where shingleCounts[position] > 0 {
            for band in 0..<bands { place(Int32(position), band: band) }
        }
    }
}

/// A multimap from 64-bit keys to positions (one open-addressing table of 64-bit entries: 32 bits
/// of the key and the position), for exact-key candidates such as a story's headline.
public struct KeyIndex: Sendable {
    private var table: [UInt64]
    private var used = 0

    public init(capacity: Int = 0) {
        var size = 1024
        while size * 3 < capacity * 4 { size <<= 1 }
        table = [UInt64](repeating: 0, count: size)
    }

    public mutating func insert(_ key: UInt64, position: Int32) {
        if (used + 1) * 4 > table.count * 3 { grow() }
        place(UInt32(truncatingIfNeeded: key >> 32), position: position)
        used += 1
    }

    /// Positions added under `key` (and, rarely, under another key with the same high 32 bits:
    /// callers check what they find), ascending.
    public func positions(_ key: UInt64) -> [Int32] {
        let tag = UInt32(truncatingIfNeeded: key >> 32)
        let mask = table.count - 1
        var slot = Int(truncatingIfNeeded: Shingles.mix(UInt64(tag))) & mask
        var found: [Int32] = []
        while table[slot] != 0 {
            if UInt32(truncatingIfNeeded: table[slot] >> 32) == tag { found.append(Int32(truncatingIfNeeded: table[slot] & 0xFFFF_FFFF) - 1) }
            slot = (slot + 1) & mask
        }
        return found.sorted()
    }

    public var memoryBytes: Int { table.count * 8 }

    private mutating func place(_ tag: UInt32, position: Int32) {
        let mask = table.count - 1
        var slot = Int(truncatingIfNeeded: Shingles.mix(UInt64(tag))) & mask
        while table[slot] != 0 { slot = (slot + 1) & mask }
        table[slot] = UInt64(tag) << 32 | UInt64(UInt32(position + 1))
    }

    private mutating func grow() {
        let old = table
        table = [UInt64](repeating: 0, count: old.count * 2)
        for entry in old where entry != 0 {
            place(UInt32(truncatingIfNeeded: entry >> 32), position: Int32(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1)
        }
    }
}

/// A set of 64-bit values that are already well-mixed hashes (shingle hashes): open addressing
/// on their low bits, with none of `Set`'s per-element hashing.
struct MixedHashSet {
    private var table: [UInt64]
    private let mask: Int
    /// 0 marks an empty place, so the value 0 is kept aside.
    private var hasZero = false

    init(capacity: Int) {
        var size = 16
        while size < 2 * capacity { size <<= 1 }
        table = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    /// Adds `value`; true when it was not there yet.
    @discardableResult
    mutating func insert(_ value: UInt64) -> Bool {
        if value == 0 {
            defer { hasZero = true }
            return !hasZero
        }
        let mask = self.mask
        return table.withUnsafeMutableBufferPointer { table in
            var place = Int(truncatingIfNeeded: value) & mask
            while true {
                let entry = table[place]
                if entry == value { return false }
                if entry == 0 {
                    table[place] = value
                    return true
                }
                place = (place + 1) & mask
            }
        }
    }

    func contains(_ value: UInt64) -> Bool {
        if value == 0 { return hasZero }
        return table.withUnsafeBufferPointer { table in
            var place = Int(truncatingIfNeeded: value) & mask
            while true {
                let entry = table[place]
                if entry == value { return true }
                if entry == 0 { return false }
                place = (place + 1) & mask
            }
        }
    }
}
