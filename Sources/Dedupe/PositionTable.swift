/// An open-addressing table of positions (indexes into an array its owner keeps), each placed
/// under a 64-bit key: linear probing from the place the key's high bits pick (Lemire's
/// multiply-shift, so the table can have any size), an entry of 32 bits holding the position and
/// 5 low bits of its key. A lookup hands back the positions of its run whose 5 bits match, so the
/// owner reads its own item (to compare what the key was made of) for 1 in 32 of the others.
///
/// The band index and the SimHash index keep their candidates in one each. The owner grows it:
/// when `isFull(adding:)`, it takes `grown()` and inserts every position again.
struct PositionTable: Sendable {
    /// Positions run below this (2^27 - 1: 134 million items).
    static let positionLimit = 1 << 27 - 1
    private static let positionBits = UInt32(positionLimit)

    private var entries: [UInt32]
    private var used = 0

    /// An empty table of at least 1,024 places.
    init(size: Int) {
        entries = [UInt32](repeating: 0, count: max(1024, size))
    }

    var memoryBytes: Int { entries.count * 4 }

    /// Whether `count` more entries would take the table past 4/5 full.
    func isFull(adding count: Int) -> Bool {
        (used + count) * 5 > entries.count * 4
    }

    /// An empty table half as large again.
    func grown() -> PositionTable {
        PositionTable(size: entries.count + entries.count / 2)
    }

    mutating func insert(_ position: Int32, key: UInt64) {
        precondition(Int(position) < Self.positionLimit, "a position table holds positions below 2^27 - 1")
        let size = entries.count
        var place = Self.start(of: key, size: size)
        while entries[place] != 0 { place = place + 1 == size ? 0 : place + 1 }
        entries[place] = Self.tag(key) << 27 | (UInt32(position) + 1)
        used += 1
    }

    /// Calls `body` with each position inserted under `key` and, rarely, under another key of the
    /// same run and tag (the caller compares its item), in table order.
    @inline(__always)
    func forEachPosition(key: UInt64, _ body: (Int) -> Void) {
        let tag = Self.tag(key)
        entries.withUnsafeBufferPointer { entries in
            let size = entries.count
            var place = Self.start(of: key, size: size)
            while true {
                let entry = entries[place]
                if entry == 0 { return }
                if entry >> 27 == tag { body(Int(entry & Self.positionBits) - 1) }
                place = place + 1 == size ? 0 : place + 1
            }
        }
    }

    @inline(__always)
    private static func tag(_ key: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: key & 31) }

    @inline(__always)
    private static func start(of key: UInt64, size: Int) -> Int {
        Int(truncatingIfNeeded: key.multipliedFullWidth(by: UInt64(size)).high)
    }
}
