import DatesAndCharsets
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

