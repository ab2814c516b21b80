/// Finds stored 64-bit SimHash fingerprints within a Hamming distance of a query without scanning
/// them all (Manku, Jain, Das Sarma: "Detecting near-duplicates for web crawling", 2007).
///
/// The 64 bits are split into `maxDistance + 1` blocks. Two fingerprints that differ in at most
/// `maxDistance` bits agree exactly on at least one block (pigeonhole), so a lookup only verifies
/// the fingerprints that share a block value with the query: one hash-table probe per block.
public struct SimHashIndex: Sendable {
    public let maxDistance: Int
    private let blocks: [(shift: UInt64, mask: UInt64)]
    /// Per block: block value → positions in `fingerprints`.
    private var tables: [[UInt64: [Int32]]]
    private var fingerprints: [UInt64] = []
    private var ids: [Int64] = []

    /// A match: the stored item's id and its distance from the query.
    public struct Match: Sendable, Equatable {
        public var id: Int64
        public var distance: Int
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
        self.tables = Array(repeating: [:], count: count)
    }

    public var count: Int { fingerprints.count }

    /// Adds a fingerprint under an id (the same fingerprint may be added under several ids).
    public mutating func insert(_ fingerprint: UInt64, id: Int64) {
        let position = Int32(fingerprints.count)
        fingerprints.append(fingerprint)
        ids.append(id)
        for (index, block) in blocks.enumerated() {
            tables[index][(fingerprint >> block.shift) & block.mask, default: []].append(position)
        }
    }

    /// Reserves room for `count` fingerprints (for a bulk load at start-up).
    public mutating func reserveCapacity(_ count: Int) {
        fingerprints.reserveCapacity(count)
        ids.reserveCapacity(count)
    }

    /// The closest stored fingerprint within `maxDistance`, ties going to the earliest stored.
    public func nearest(_ fingerprint: UInt64) -> Match? {
        var best: (position: Int32, distance: Int)?
        for (index, block) in blocks.enumerated() {
            guard let positions = tables[index][(fingerprint >> block.shift) & block.mask] else { continue }
            for position in positions {
                let distance = (fingerprints[Int(position)] ^ fingerprint).nonzeroBitCount
                guard distance <= maxDistance else { continue }
                if let current = best, current.distance < distance || (current.distance == distance && current.position <= position) {
                    continue
                }
                best = (position, distance)
            }
        }
        return best.map { Match(id: ids[Int($0.position)], distance: $0.distance) }
    }

    /// Every stored fingerprint within `maxDistance` (each id once), for tests and diagnostics.
    public func matches(_ fingerprint: UInt64) -> [Match] {
        var seen = Set<Int32>()
        var result: [Match] = []
        for (index, block) in blocks.enumerated() {
            for position in tables[index][(fingerprint >> block.shift) & block.mask] ?? [] where seen.insert(position).inserted {
                let distance = (fingerprints[Int(position)] ^ fingerprint).nonzeroBitCount
                if distance <= maxDistance { result.append(Match(id: ids[Int(position)], distance: distance)) }
            }
        }
        return result.sorted { ($0.distance, $0.id) < ($1.distance, $1.id) }
    }
}
