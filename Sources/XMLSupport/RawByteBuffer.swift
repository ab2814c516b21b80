import Foundation

/// A growable byte buffer on manually managed memory, for the hottest callback.
struct RawByteBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>?
    var count = 0
    private var capacity = 0

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    mutating func append(_ source: UnsafePointer<UInt8>, count length: Int) {
        if count + length > capacity {
            let newCapacity = max(4096, (count + length) * 2)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            if let base {
                grown.update(from: base, count: count)
                base.deallocate()
            }
            base = grown
            capacity = newCapacity
        }
        (base! + count).update(from: source, count: length)
        count += length
    }

    mutating func free() {
        base?.deallocate()
        base = nil
        count = 0
        capacity = 0
    }
}
