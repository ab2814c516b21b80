/// Byte-level text decoding shared by the feed and HTML readers: UTF-8 validation and the
/// Windows-1252 repair publishers' mislabelled bytes need.
public enum ByteDecoding {
    public static func isASCII(_ bytes: [UInt8]) -> Bool { bytes.allSatisfy { $0 < 0x80 } }
    public static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool { bytes.allSatisfy { $0 < 0x80 } }

    public static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { isValidUTF8($0) }
    }

    public static func isValidUTF8(_ buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        let count = buffer.count
        while index < count {
            // ASCII runs, eight bytes at a time.
            while index + 8 <= count {
                let word = UnsafeRawPointer(buffer.baseAddress! + index).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 != 0 { break }
                index += 8
            }
            guard index < count else { return true }
            let lead = buffer[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            let minimum: UInt32
            switch lead {
            case 0xC2...0xDF: length = 2; minimum = 0x80
            case 0xE0...0xEF: length = 3; minimum = 0x800
            case 0xF0...0xF4: length = 4; minimum = 0x10000
            default: return false
            }
            guard index + length <= count else { return false }
            var scalar = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
            for offset in 1..<length {
                let byte = buffer[index + offset]
                guard byte & 0xC0 == 0x80 else { return false }
                scalar = scalar << 6 | UInt32(byte & 0x3F)
            }
            guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return false }
            index += length
        }
        return true
    }

    /// UTF-8 bytes for `bytes`: with `all`, every byte is read as Windows-1252; otherwise valid
    /// UTF-8 sequences are kept and only the invalid bytes are read as Windows-1252.
    public static func windows1252ToUTF8(_ bytes: [UInt8], all: Bool) -> [UInt8] {
        bytes.withUnsafeBufferPointer { windows1252ToUTF8($0, all: all) }
    }

    public static func windows1252ToUTF8(_ bytes: UnsafeBufferPointer<UInt8>, all: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x80 {
                out.append(byte)
                index += 1
                continue
            }
            if !all, let length = validSequenceLength(bytes, at: index) {
                out.append(contentsOf: bytes[index..<index + length])
                index += length
                continue
            }
            let scalar = windows1252[Int(byte) - 0x80] ?? Unicode.Scalar(byte)
            out.append(contentsOf: String(Character(scalar)).utf8)
            index += 1
        }
        return out
    }

    private static func validSequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int? {
        let lead = bytes[index]
        let length: Int
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        return isValidUTF8(UnsafeBufferPointer(rebasing: bytes[index..<index + length])) ? length : nil
    }

    /// What a C1 control (U+0080–U+009F) in text stands for: the Windows-1252 character of that
    /// byte, as HTML reads a numeric reference such as `&#146;` (HTML's table of replaced
    /// character references) and as text mislabelled Latin-1 means it; nil for the five bytes
    /// Windows-1252 leaves undefined (the control is then dropped).
    public static func windows1252Value(ofC1 value: UInt32) -> UInt32? {
        guard (0x80...0x9F).contains(value), let scalar = windows1252[Int(value) - 0x80], scalar.value >= 0xA0 else { return nil }
        return scalar.value
    }

    /// Appends the UTF-8 bytes of `value` (a valid scalar value).
    public static func appendUTF8(_ value: UInt32, to out: inout [UInt8]) {
        if value < 0x80 {
            out.append(UInt8(value))
        } else if value < 0x800 {
            out.append(UInt8(0xC0 | (value >> 6)))
            out.append(UInt8(0x80 | (value & 0x3F)))
        } else {
            out.append(UInt8(0xE0 | (value >> 12)))
            out.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (value & 0x3F)))
        }
    }

    /// Windows-1252's 0x80–0x9F; the rest of 0xA0–0xFF is Latin-1.
    private static let windows1252: [Unicode.Scalar?] = {
        let high: [UInt32] = [
            0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
            0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
        ]
        return (0x80...0xFF).map { byte in
            if byte < 0xA0 {
                let value = high[byte - 0x80]
                return value == 0 ? Unicode.Scalar(UInt32(byte)) : Unicode.Scalar(value)
            }
            return Unicode.Scalar(UInt32(byte))
        }
    }()

    /// A charset label reduced to the decoding it calls for: "utf-8", "windows-1252" (which
    /// ISO-8859-1 and ASCII are read as, as browsers do), or the label lower-cased; nil for an
    /// empty label. Used for feeds and pages alike.
    public static func normalizedCharsetName(_ raw: String) -> String? {
        let name = raw.trimmingCharacters(in: .whitespaces).lowercased()
        switch name {
        case "": return nil
        case "utf-8", "utf8", "unicode-1-1-utf-8": return "utf-8"
        case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii",
             "windows-1252", "cp1252", "x-cp1252", "ansi_x3.4-1968":
            return "windows-1252"
        // Python's and Java's names of two Mac encodings, as iconv (which libxml2 decodes with) calls them.
        case "maclatin2", "mac-latin2", "mac_latin2", "maccentraleurope", "x-mac-ce", "x-mac-centraleurroman":
            return "mac-centraleurope"
        case "maciceland", "mac-iceland", "mac_iceland", "x-mac-icelandic":
            return "mac-is"
        case "utf-16", "utf16", "utf-32", "ucs-2", "ucs-4", "unicode":
            // Labelled UTF-16/32 without a byte-order mark (those are checked first): the bytes
            // are an ASCII superset, so the label is wrong.
            return "utf-8"
        default:
            return name
        }
    }

    /// `bytes` as UTF-8 with every invalid sequence replaced by U+FFFD (never read as Latin-1).
    public static func repairedUTF8(_ bytes: [UInt8]) -> [UInt8] {
        if isValidUTF8(bytes) { return bytes }
        return Array(String(decoding: bytes, as: UTF8.self).utf8)
    }
}
