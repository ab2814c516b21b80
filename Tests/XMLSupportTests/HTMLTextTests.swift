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

    @Test func windows1252CharacterReferencesAreReadAsHTMLReadsThem() {
        // `&#146;` names a C1 control; HTML (and every tool that wrote it) means Windows-1252's "’".
        #expect(HTMLText.inlineText(fromHTML: "Don&#146;t stop &#150; now&#129;!") == "Don\u{2019}t stop \u{2013} now!")
        #expect(HTMLText.paragraphs(fromHTML: "<p>&#147;Quoted&#148; &#128;5</p>") == ["\u{201C}Quoted\u{201D} \u{20AC}5"])
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

