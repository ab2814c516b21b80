/// Strings made from UTF-8 bytes at memory speed.
///
/// `String(decoding:as:)` validates byte by byte once a text holds any non-ASCII character,
/// which was a tenth of a whole feed parse. This check skips ASCII eight bytes at a time and
/// accepts exactly what the standard library accepts (no overlong forms, no surrogates, nothing
/// past U+10FFFF); valid bytes are then copied without a second validation, anything else goes
/// through `String(decoding:as:)` and its U+FFFD repair as before.
public enum UTF8String {
    /// The text of `bytes`, with each invalid sequence replaced by U+FFFD.
    public static func make(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard let isASCII = validate(bytes) else { return String(decoding: bytes, as: UTF8.self) }
        return unsafe String(copying: UTF8Span(unchecked: Span(_unsafeElements: bytes), isKnownASCII: isASCII))
    }

    /// The text of `bytes` (see `make(_:)` for a buffer).
    public static func make(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { make($0) }
    }

    /// The text of `bytes` when they are well-formed UTF-8, else nil.
    public static func ifValid(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBufferPointer { buffer in
            validate(buffer).map { unsafe String(copying: UTF8Span(unchecked: Span(_unsafeElements: buffer), isKnownASCII: $0)) }
        }
    }

    /// Whether `bytes` is well-formed UTF-8: nil when not, else whether it is all ASCII.
    public static func validate(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        var index = 0
        var isASCII = true
        while index < count {
            // Eight bytes at a time up to the next non-ASCII byte (little-endian: the lowest set
            // high bit is the first such byte).
            while index + 8 <= count {
                let high = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self).littleEndian & 0x8080_8080_8080_8080
                if high != 0 {
                    index += high.trailingZeroBitCount >> 3
                    break
                }
                index += 8
            }
            guard index < count else { break }
            let lead = base[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            isASCII = false
            // Unicode 15, table 3-7: the well-formed byte sequences.
            switch lead {
            case 0xC2...0xDF:
                guard index + 1 < count, isContinuation(base[index + 1]) else { return nil }
                index += 2
            case 0xE0...0xEF:
                guard index + 2 < count else { return nil }
                let second = base[index + 1]
                let secondRange: ClosedRange<UInt8> = lead == 0xE0 ? 0xA0...0xBF : lead == 0xED ? 0x80...0x9F : 0x80...0xBF
                guard secondRange.contains(second), isContinuation(base[index + 2]) else { return nil }
                index += 3
            case 0xF0...0xF4:
                guard index + 3 < count else { return nil }
                let second = base[index + 1]
                let secondRange: ClosedRange<UInt8> = lead == 0xF0 ? 0x90...0xBF : lead == 0xF4 ? 0x80...0x8F : 0x80...0xBF
                guard secondRange.contains(second), isContinuation(base[index + 2]), isContinuation(base[index + 3]) else {
                    return nil
                }
                index += 4
            default:
                return nil
            }
        }
        return isASCII
    }

    @inline(__always)
    private static func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }
}
