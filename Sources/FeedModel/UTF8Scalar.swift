/// One Unicode scalar read from valid UTF-8 (a Swift string's bytes), for loops over text that
/// look at most scalars' values only and copy the bytes, without building strings per scalar.
public enum UTF8Scalar {
    /// The scalar value starting at `index` and the number of bytes it takes. `bytes` must be
    /// valid UTF-8 and `index` the start of a scalar.
    @inlinable @inline(__always)
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (value: UInt32, length: Int) {
        let byte = bytes[index]
        if byte < 0x80 { return (UInt32(byte), 1) }
        if byte < 0xE0 { return ((UInt32(byte & 0x1F) << 6) | UInt32(bytes[index + 1] & 0x3F), 2) }
        if byte < 0xF0 {
            return ((UInt32(byte & 0x0F) << 12) | (UInt32(bytes[index + 1] & 0x3F) << 6) | UInt32(bytes[index + 2] & 0x3F), 3)
        }
        return ((UInt32(byte & 0x07) << 18) | (UInt32(bytes[index + 1] & 0x3F) << 12) | (UInt32(bytes[index + 2] & 0x3F) << 6)
                | UInt32(bytes[index + 3] & 0x3F), 4)
    }
}

/// Numbers and bytes as text without `String(format:)` (which goes through Foundation's
/// formatter: costly where a pass writes tens of thousands of names and dates).
public enum DecimalText {
    /// `value` in decimal, with leading zeros to `width` digits (`zeroPadded(7, width: 3)` is
    /// "007"); a negative value gets its sign in front of the padded digits.
    public static func zeroPadded(_ value: Int, width: Int) -> String {
        let digits = String(value.magnitude)
        let padding = String(repeating: "0", count: max(0, width - digits.count))
        return (value < 0 ? "-" : "") + padding + digits
    }

    /// Lower-case hex of `bytes` (two digits a byte).
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
