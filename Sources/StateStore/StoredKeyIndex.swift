/// The exact keys of the stored stories (text hashes, canonical URLs, entry ids) in memory, each
/// as a 64-bit hash with the row id of its story. The state answers its exact-key lookups here
/// and then reads the candidate rows by id to compare the key itself, so the stories table keeps
/// no B-tree index on these random keys: with one, every insert dirtied a page of each index
/// wherever its key fell, and a commit's writes grew with the size of the table (issue 14).
///
/// A candidate may not hold the key (two keys with one hash, a row rolled back after it was
/// added, a row id reused since): the row decides. It never misses a stored key: every story the
/// state inserts is added.
///
/// Open addressing with linear probing in one array; a slot holds the hash's high 32 bits and
/// the row id (32 bits), so it costs what a `Set<UInt64>` of the hashes cost. Row ids beyond 32
/// bits (never reached by a state that numbers its stories from 1) go to a small side table.
struct StoredKeyIndex {
    enum Kind: UInt64 {
        case sha256 = 1, url = 2, entryID = 3
    }

    /// tag << 32 | row id; 0 is an empty slot (row ids start at 1).
    private var slots: [UInt64]
    private var occupied = 0
    private var largeRowIDs: [UInt64: [Int64]] = [:]

    init() {
        slots = Array(repeating: 0, count: 1024)
    }

    /// Number of keys held.
    var count: Int { occupied + largeRowIDs.values.reduce(0) { $0 + $1.count } }

    mutating func insert(_ kind: Kind, _ value: String, rowID: Int64) {
        let hash = Self.hash(kind, value)
        guard rowID > 0, rowID <= Int64(UInt32.max) else {
            largeRowIDs[hash, default: []].append(rowID)
            return
        }
        // Load at most 3/4, as the standard library's hash tables.
        if (occupied + 1) * 4 > slots.count * 3 { grow() }
        let tag = Self.tag(hash)
        place(tag << 32 | UInt64(rowID), home: Self.home(tag: tag))
        occupied += 1
    }

    /// The row ids that may hold this key (in no particular order).
    func candidates(_ kind: Kind, _ value: String) -> [Int64] {
        let hash = Self.hash(kind, value)
        let tag = Self.tag(hash)
        let mask = slots.count - 1
        var found: [Int64] = []
        var index = Int(truncatingIfNeeded: Self.home(tag: tag)) & mask
        while true {
            let slot = slots[index]
            if slot == 0 { break }
            if slot >> 32 == tag { found.append(Int64(slot & 0xFFFF_FFFF)) }
            index = (index + 1) & mask
        }
        if let large = largeRowIDs[hash] { found += large }
        return found
    }

    private mutating func place(_ slot: UInt64, home: UInt64) {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: home) & mask
        while slots[index] != 0 { index = (index + 1) & mask }
        slots[index] = slot
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: 0, count: old.count * 2)
        for slot in old where slot != 0 { place(slot, home: Self.home(tag: slot >> 32)) }
    }

    private static func tag(_ hash: UInt64) -> UInt64 { hash >> 32 }

    /// A slot keeps only the tag, so a key's home is derived from the tag alone: growing can
    /// place every slot again without the keys.
    private static func home(tag: UInt64) -> UInt64 {
        var mixed = tag &* 0x9E37_79B9_7F4A_7C15
        mixed ^= mixed >> 29
        return mixed
    }

    /// FNV-1a over the value's UTF-8, seeded by the kind, then mixed (SplitMix64's finaliser).
    static func hash(_ kind: Kind, _ value: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ (kind.rawValue &* 0x9E37_79B9_7F4A_7C15)
        for byte in value.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        hash = (hash ^ (hash >> 30)) &* 0xBF58_476D_1CE4_E5B9
        hash = (hash ^ (hash >> 27)) &* 0x94D0_49BB_1331_11EB
        return hash ^ (hash >> 31)
    }
}
