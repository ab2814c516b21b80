/// Byte-level text decoding shared by the feed and HTML readers: UTF-8 validation and the
/// Windows-1252 repair publishers' mislabelled bytes need.
public enum ByteDecoding {
    public static func isASCII(_ bytes: [UInt8]) -> Bool { bytes.allSatisfy { $0 < 0x80 } }
    public static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool { bytes.allSatisfy { $0 < 0x80 } }

    public static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { isValidUTF8($0) }
    }

    public static func isValidUTF8(_ buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        UTF8String.validate(buffer) != nil
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
        case "macgreek", "mac-greek", "mac_greek", "x-mac-greek": return "x-mac-greek"
        case "macturkish", "mac-turkish", "mac_turkish", "x-mac-turkish": return "x-mac-turkish"
        case "utf-16", "utf16", "utf-32", "ucs-2", "ucs-4", "unicode":
            // Labelled UTF-16/32 without a byte-order mark (those are checked first): the bytes
            // are an ASCII superset, so the label is wrong.
            return "utf-8"
        default:
            return name
        }
    }

    /// Mac OS Greek and Mac OS Turkish, which iconv (and so libxml2) does not have: the Unicode
    /// values of bytes 0x80-0xFF (the lower half is ASCII), as Python's codecs give them.
    public static func macSingleByteTable(_ normalizedName: String) -> [UInt16]? {
        switch normalizedName {
        case "x-mac-greek": return macGreekHigh
        case "x-mac-turkish": return macTurkishHigh
        default: return nil
        }
    }

    /// `bytes` decoded with a single-byte table of the upper half (`macSingleByteTable`), as UTF-8.
    public static func singleByteToUTF8(_ bytes: UnsafeBufferPointer<UInt8>, high: [UInt16]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8)
        for byte in bytes {
            if byte < 0x80 { out.append(byte) } else { appendUTF8(UInt32(high[Int(byte) - 0x80]), to: &out) }
        }
        return out
    }

    private static let macGreekHigh: [UInt16] = [
        0x00C4, 0x00B9, 0x00B2, 0x00C9, 0x00B3, 0x00D6, 0x00DC, 0x0385,
        0x00E0, 0x00E2, 0x00E4, 0x0384, 0x00A8, 0x00E7, 0x00E9, 0x00E8,
        0x00EA, 0x00EB, 0x00A3, 0x2122, 0x00EE, 0x00EF, 0x2022, 0x00BD,
        0x2030, 0x00F4, 0x00F6, 0x00A6, 0x20AC, 0x00F9, 0x00FB, 0x00FC,
        0x2020, 0x0393, 0x0394, 0x0398, 0x039B, 0x039E, 0x03A0, 0x00DF,
        0x00AE, 0x00A9, 0x03A3, 0x03AA, 0x00A7, 0x2260, 0x00B0, 0x00B7,
        0x0391, 0x00B1, 0x2264, 0x2265, 0x00A5, 0x0392, 0x0395, 0x0396,
        0x0397, 0x0399, 0x039A, 0x039C, 0x03A6, 0x03AB, 0x03A8, 0x03A9,
        0x03AC, 0x039D, 0x00AC, 0x039F, 0x03A1, 0x2248, 0x03A4, 0x00AB,
        0x00BB, 0x2026, 0x00A0, 0x03A5, 0x03A7, 0x0386, 0x0388, 0x0153,
        0x2013, 0x2015, 0x201C, 0x201D, 0x2018, 0x2019, 0x00F7, 0x0389,
        0x038A, 0x038C, 0x038E, 0x03AD, 0x03AE, 0x03AF, 0x03CC, 0x038F,
        0x03CD, 0x03B1, 0x03B2, 0x03C8, 0x03B4, 0x03B5, 0x03C6, 0x03B3,
        0x03B7, 0x03B9, 0x03BE, 0x03BA, 0x03BB, 0x03BC, 0x03BD, 0x03BF,
        0x03C0, 0x03CE, 0x03C1, 0x03C3, 0x03C4, 0x03B8, 0x03C9, 0x03C2,
        0x03C7, 0x03C5, 0x03B6, 0x03CA, 0x03CB, 0x0390, 0x03B0, 0x00AD,
    ]

    private static let macTurkishHigh: [UInt16] = [
        0x00C4, 0x00C5, 0x00C7, 0x00C9, 0x00D1, 0x00D6, 0x00DC, 0x00E1,
        0x00E0, 0x00E2, 0x00E4, 0x00E3, 0x00E5, 0x00E7, 0x00E9, 0x00E8,
        0x00EA, 0x00EB, 0x00ED, 0x00EC, 0x00EE, 0x00EF, 0x00F1, 0x00F3,
        0x00F2, 0x00F4, 0x00F6, 0x00F5, 0x00FA, 0x00F9, 0x00FB, 0x00FC,
        0x2020, 0x00B0, 0x00A2, 0x00A3, 0x00A7, 0x2022, 0x00B6, 0x00DF,
        0x00AE, 0x00A9, 0x2122, 0x00B4, 0x00A8, 0x2260, 0x00C6, 0x00D8,
        0x221E, 0x00B1, 0x2264, 0x2265, 0x00A5, 0x00B5, 0x2202, 0x2211,
        0x220F, 0x03C0, 0x222B, 0x00AA, 0x00BA, 0x03A9, 0x00E6, 0x00F8,
        0x00BF, 0x00A1, 0x00AC, 0x221A, 0x0192, 0x2248, 0x2206, 0x00AB,
        0x00BB, 0x2026, 0x00A0, 0x00C0, 0x00C3, 0x00D5, 0x0152, 0x0153,
        0x2013, 0x2014, 0x201C, 0x201D, 0x2018, 0x2019, 0x00F7, 0x25CA,
        0x00FF, 0x0178, 0x011E, 0x011F, 0x0130, 0x0131, 0x015E, 0x015F,
        0x2021, 0x00B7, 0x201A, 0x201E, 0x2030, 0x00C2, 0x00CA, 0x00C1,
        0x00CB, 0x00C8, 0x00CD, 0x00CE, 0x00CF, 0x00CC, 0x00D3, 0x00D4,
        0xF8FF, 0x00D2, 0x00DA, 0x00DB, 0x00D9, 0xF8A0, 0x02C6, 0x02DC,
        0x00AF, 0x02D8, 0x02D9, 0x02DA, 0x00B8, 0x02DD, 0x02DB, 0x02C7,
    ]

    /// `bytes` as UTF-8 with every invalid sequence replaced by U+FFFD (never read as Latin-1).
    public static func repairedUTF8(_ bytes: [UInt8]) -> [UInt8] {
        if isValidUTF8(bytes) { return bytes }
        return Array(String(decoding: bytes, as: UTF8.self).utf8)
    }
}
