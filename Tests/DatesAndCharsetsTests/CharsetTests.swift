import DatesAndCharsets
import Foundation
import Testing

@Suite struct ByteDecodingTests {
    @Test func charsetLabelsReduceToTheDecodingTheyCallFor() {
        #expect(ByteDecoding.normalizedCharsetName(" ISO-8859-1 ") == "windows-1252")
        #expect(ByteDecoding.normalizedCharsetName("US-ASCII") == "windows-1252")
        #expect(ByteDecoding.normalizedCharsetName("UTF8") == "utf-8")
        #expect(ByteDecoding.normalizedCharsetName("utf-16") == "utf-8")
        #expect(ByteDecoding.normalizedCharsetName("Shift_JIS") == "shift_jis")
        #expect(ByteDecoding.normalizedCharsetName("") == nil)
    }

    @Test func windows1252BytesBecomeUTF8() {
        // 0x93/0x94 are curly quotes in windows-1252, 0xE9 is é.
        let bytes: [UInt8] = [0x93, 0x43, 0x61, 0x66, 0xE9, 0x94]
        #expect(String(decoding: ByteDecoding.windows1252ToUTF8(bytes, all: true), as: UTF8.self) == "\u{201C}Café\u{201D}")
    }

    @Test func invalidUTF8IsRepairedNotReadAsLatin1() {
        let bytes: [UInt8] = Array("ok ".utf8) + [0xC3] + Array(" end".utf8)
        #expect(!ByteDecoding.isValidUTF8(bytes))
        #expect(String(decoding: ByteDecoding.repairedUTF8(bytes), as: UTF8.self) == "ok \u{FFFD} end")
        #expect(ByteDecoding.isValidUTF8(Array("café".utf8)))
    }
}

@Suite struct ContentTypeTests {
    @Test func theCharsetParameterIsFoundWhateverItsCaseAndQuotes() {
        #expect(ContentType.charset("text/html; charset=ISO-8859-1") == "ISO-8859-1")
        #expect(ContentType.charset("application/rss+xml;Charset=\"utf-8\"; q=1") == "utf-8")
        #expect(ContentType.charset("text/html") == nil)
        #expect(ContentType.charset("text/html; charset=") == nil)
        #expect(ContentType.charset(nil) == nil)
    }
}

@Suite struct HTTPDateTests {
    @Test func theThreeHTTPDateFormsAreRead() {
        let instant = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == instant)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == instant)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == instant)
        #expect(HTTPDate.parse("not a date") == nil)
        #expect(HTTPDate.format(instant) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    @Test func retryAfterIsSecondsOrADate() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(HTTPDate.retryAfter("120", now: now) == now.addingTimeInterval(120))
        #expect(HTTPDate.retryAfter("-5", now: now) == nil)
        #expect(HTTPDate.retryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == Date(timeIntervalSince1970: 784_111_777))
    }
}
