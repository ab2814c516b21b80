/// Finds stored 64-bit SimHash fingerprints within a Hamming distance of a query without scanning
/// them all (Manku, Jain, Das Sarma: "Detecting near-duplicates for web crawling", 2007).
///
/// The 64 bits are split into `maxDistance + 1` blocks. Two fingerprints that differ in at most
/// `maxDistance` bits agree exactly on at least one block (pigeonhole), so a lookup only verifies
/// the fingerprints that share a block value with the query.
///
/// Layout: per block, the fingerprints loaded at start-up sit in one bucket array (counting sort
/// on 16 bits of the block: no per-bucket allocations, a few bytes per fingerprint), and the ones
/// inserted since in one `PositionTable` for all blocks, keyed by a hash of (block, block value)
/// (a probe reads the stored fingerprint to compare the block, so an entry costs 4 bytes).
/// `build(_:)` loads a million in well under a second.
public struct SimHashIndex: Sendable {
    public let maxDistance: Int
    private let blocks: [(shift: UInt64, mask: UInt64)]
    private var fingerprints: [UInt64] = []
    private var ids: [Int64] = []
    /// Per block: bucket start offsets into `bucketed` (65,536 + 1 entries), for the bulk part.
    private var offsets: [[Int32]]
    private var bucketed: [[Int32]]
    private var bulkCount = 0
    /// The fingerprints inserted after the bulk load, one entry per block.
    private var recent = PositionTable(size: 1024)

    private static let bucketBits: UInt64 = 16

    /// A match: the stored item's id and its distance from the query.
    public struct Match: Sendable, Equatable {
        public var id: Int64
        public var distance: Int

        public init(id: Int64, distance: Int) {
            self.id = id
            self.distance = distance
        }
    }

    public init(maxDistance: Int = 3) {
        precondition((0...31).contains(maxDistance), "maxDistance must be 0...31")
        self.maxDistance = maxDistance
        let count = maxDistance + 1
        var blocks: [(UInt64, UInt64)] = []
        var start = 0
        for index in 0..<count {
            let width = 64 / count + (index < 64 % count ? 1 : 0)
            let mask: UInt64 = width == 64 ? .max : ((1 << UInt64(width)) - 1)
            blocks.append((UInt64(start), mask))
            start += width
        }
        self.blocks = blocks
        offsets = Array(repeating: [], count: count)
        bucketed = Array(repeating: [], count: count)
    }

    /// An index over `items`, built in bulk.
    public static func build(maxDistance: Int = 3, _ items: [(id: Int64, fingerprint: UInt64)]) -> SimHashIndex {
        var index = SimHashIndex(maxDistance: maxDistance)
        index.fingerprints = items.map(\.fingerprint)
        index.ids = items.map(\.id)
        index.bulkCount = items.count
        let buckets = 1 << Int(bucketBits)
        for (block, (shift, mask)) in index.blocks.enumerated() {
            var offsets = [Int32](repeating: 0, count: buckets + 1)
            for fingerprint in index.fingerprints {
                offsets[Int(((fingerprint >> shift) & mask) & 0xFFFF) + 1] += 1
            }
            for bucket in 0..<buckets { offsets[bucket + 1] += offsets[bucket] }
            var cursor = offsets
            var positions = [Int32](repeating: 0, count: items.count)
            for (position, fingerprint) in index.fingerprints.enumerated() {
                let bucket = Int(((fingerprint >> shift) & mask) & 0xFFFF)
                positions[Int(cursor[bucket])] = Int32(position)
                cursor[bucket] += 1
            }
            index.offsets[block] = offsets
            index.bucketed[block] = positions
        }
        return index
    }

    public var count: Int { fingerprints.count }

    /// Bytes held (for benchmarks).
    public var memoryBytes: Int {
        fingerprints.count * 16 + bucketed.reduce(0) { $0 + $1.count * 4 } + offsets.reduce(0) { $0 + $1.count * 4 }
            + recent.memoryBytes
    }

    /// The key `value` of block `block` is placed under in the recent table.
    private static func recentKey(block: Int, value: UInt64) -> UInt64 {
        Shingles.mix(value ^ (UInt64(block) &* 0x9E37_79B9_7F4A_7C15) ^ 0x5EED_51A0_5EED_51A0)
    }

    /// Adds a fingerprint under an id (the same fingerprint may be added under several ids).
    public mutating func insert(_ fingerprint: UInt64, id: Int64) {
        let position = Int32(fingerprints.count)
        precondition(Int(position) < PositionTable.positionLimit, "a SimHash index holds at most 2^27 - 1 fingerprints")
        fingerprints.append(fingerprint)
        ids.append(id)
        if recent.isFull(adding: blocks.count) {
            recent = recent.grown()
            for earlier in bulkCount..<Int(position) { placeRecent(Int32(earlier)) }
        }
        placeRecent(position)
    }

    private mutating func placeRecent(_ position: Int32) {
        let fingerprint = fingerprints[Int(position)]
        for (index, block) in blocks.enumerated() {
            recent.insert(position, key: Self.recentKey(block: index, value: (fingerprint >> block.shift) & block.mask))
        }
    }

    /// The closest stored fingerprint within `maxDistance`, ties going to the earliest stored.
    public func nearest(_ fingerprint: UInt64) -> Match? {
        var best: (position: Int32, distance: Int)?
        forEachCandidate(of: fingerprint) { position, distance in
            if let current = best, current.distance < distance || (current.distance == distance && current.position <= position) {
                return
            }
            best = (position, distance)
        }
        return best.map { Match(id: ids[Int($0.position)], distance: $0.distance) }
    }

    /// Every stored fingerprint within `maxDistance` (each id once), for tests and diagnostics.
    public func matches(_ fingerprint: UInt64) -> [Match] {
        var seen = Set<Int32>()
        var result: [Match] = []
        forEachCandidate(of: fingerprint) { position, distance in
            if seen.insert(position).inserted { result.append(Match(id: ids[Int(position)], distance: distance)) }
        }
        return result.sorted { ($0.distance, $0.id) < ($1.distance, $1.id) }
    }

    /// Calls `body` for every stored fingerprint within `maxDistance` that shares a block with
    /// the query (a fingerprint sharing several blocks is reported once per block).
    private func forEachCandidate(of fingerprint: UInt64, _ body: (Int32, Int) -> Void) {
        for (index, block) in blocks.enumerated() {
            let value = (fingerprint >> block.shift) & block.mask
            if bulkCount > 0 {
                let bucket = Int(value & 0xFFFF)
                let table = offsets[index]
                let positions = bucketed[index]
                for slot in Int(table[bucket])..<Int(table[bucket + 1]) {
                    let position = positions[slot]
                    let stored = fingerprints[Int(position)]
                    guard (stored >> block.shift) & block.mask == value else { continue }
                    let distance = (stored ^ fingerprint).nonzeroBitCount
                    if distance <= maxDistance { body(position, distance) }
                }
            }
            recent.forEachPosition(key: Self.recentKey(block: index, value: value)) { position in
                let stored = fingerprints[position]
                guard (stored >> block.shift) & block.mask == value else { return }  // another key's entry
                let distance = (stored ^ fingerprint).nonzeroBitCount
                if distance <= maxDistance { body(Int32(position), distance) }
            }
        }
    }
}
