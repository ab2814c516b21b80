import Testing
import XMLSupport

@Suite struct HTMLTextTests {
    @Test func blocksBecomeParagraphsAndInlineTextIsJoined() {
        let html = "<div><p>First <b>bold</b>   paragraph.</p><ul><li>An item</li></ul>Loose text<br>after a break</div>"
        #expect(HTMLText.paragraphs(fromHTML: html) == ["First bold paragraph.", "An item", "Loose text", "after a break"])
    }

    @Test func scriptsStylesAndFormControlsAreLeftOutAndEntitiesDecoded() {
        let html = "<p>Caf&eacute; &amp; bar&#8217;s</p><script>var x = '<p>no</p>';</script><style>p{}</style><form><button>Subscribe</button><select><option>Daily</option></select></form>"
        #expect(HTMLText.paragraphs(fromHTML: html) == ["Café & bar’s"])
    }

    @Test func aFragmentWithInlineMarkupStaysOneParagraph() {
        #expect(HTMLText.paragraphs(fromHTML: "<i>Sub</i>title and more") == ["Subtitle and more"])
        #expect(HTMLText.inlineText(fromHTML: "<p>Two</p><p>lines</p>") == "Two lines")
    }

    @Test func plainTextIsSplitAtLineBreaks() {
        #expect(HTMLText.paragraphs(fromHTML: "One  line\n\nTwo\nThree") == ["One line", "Two", "Three"])
    }

    @Test func namedEntitiesAreLookedUp() {
        #expect(HTMLEntity.decode("eacute") == "é")
        #expect(HTMLEntity.decode("nbsp") == "\u{A0}")
        #expect(HTMLEntity.decode("nosuchentity") == nil)
    }
}

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
