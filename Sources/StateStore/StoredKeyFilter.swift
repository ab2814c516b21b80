/// The exact keys of the stored stories (text hashes, canonical URLs, entry ids) as 64-bit
/// hashes in memory, so that a lookup of a key no story has (nearly every lookup of a pass) is
/// answered without a query on the table's random-keyed indexes. It may answer "maybe" for a
/// key no story has (a hash collision, a story since removed): the table then decides. It never
/// answers "no" for a stored key: every story the state inserts is added.
struct StoredKeyFilter {
    enum Kind: UInt64 {
        case sha256 = 1, url = 2, entryID = 3
    }

    private var hashes = Set<UInt64>()

    mutating func insert(_ kind: Kind, _ value: String) {
        hashes.insert(Self.hash(kind, value))
    }

    func mayContain(_ kind: Kind, _ value: String) -> Bool {
        hashes.contains(Self.hash(kind, value))
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
