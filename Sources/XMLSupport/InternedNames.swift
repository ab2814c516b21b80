import CLibXML2
import Foundation

/// The `XMLName`s of one parse, each made once.
///
/// libxml2 interns names in its dictionary, so the pointers of a name's local part, prefix and
/// namespace are stable for the whole parse: the three pointers are the key, compared by
/// identity in an open-addressing table on raw memory (this runs twice per element, so it avoids
/// hashing strings and the exclusivity checks of class-owned arrays).
final class InternedNames {
    private typealias Key = (local: UnsafeRawPointer?, prefix: UnsafeRawPointer?, uri: UnsafeRawPointer?)
    private static let slotCount = 2048
    /// More distinct names than this (a hostile document) are still reported, just not interned.
    static let capacity = 1024
    private let keys = UnsafeMutablePointer<Key>.allocate(capacity: InternedNames.slotCount)
    private let slots = UnsafeMutablePointer<Int32>.allocate(capacity: InternedNames.slotCount)
    private let made = UnsafeMutablePointer<XMLName>.allocate(capacity: InternedNames.capacity)
    private var count = 0

    init() {
        slots.initialize(repeating: -1, count: Self.slotCount)
        keys.initialize(repeating: (nil, nil, nil), count: Self.slotCount)
    }

    deinit {
        made.deinitialize(count: count)
        made.deallocate()
        keys.deallocate()
        slots.deallocate()
    }

    func name(local: UnsafePointer<xmlChar>, prefix: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?) -> XMLName {
        let key: Key = (UnsafeRawPointer(local), prefix.map(UnsafeRawPointer.init), uri.map(UnsafeRawPointer.init))
        let mixed = (UInt(bitPattern: key.local) &* 0x9E37_79B9_7F4A_7C15)
            ^ (UInt(bitPattern: key.uri) &* 0xC2B2_AE3D_27D4_EB4F) ^ (UInt(bitPattern: key.prefix) >> 4)
        var slot = Int(truncatingIfNeeded: mixed >> 40) & (Self.slotCount - 1)
        while slots[slot] >= 0 {
            let stored = keys[slot]
            if stored.local == key.local && stored.prefix == key.prefix && stored.uri == key.uri {
                return made[Int(slots[slot])]
            }
            slot = (slot + 1) & (Self.slotCount - 1)
        }
        guard count < Self.capacity else {
            return XMLName(localName: String(cString: local), namespaceURI: uri.map { String(cString: $0) },
                           prefix: prefix.map { String(cString: $0) })
        }
        let name = XMLName(localName: String(cString: local), namespaceURI: uri.map { String(cString: $0) },
                           prefix: prefix.map { String(cString: $0) }, internedIndex: count)
        (made + count).initialize(to: name)
        keys[slot] = key
        slots[slot] = Int32(count)
        count += 1
        return name
    }
}
