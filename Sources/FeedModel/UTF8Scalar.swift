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
