import Testing
import TextCleanup

@Suite struct HeadlineTests {
    @Test func leadingRepeatsOfTheHeadlineGoWhateverTheirCaseAndPunctuation() {
        let body = ["BREAKING: Storm hits the coast!", "Storm hits the coast", "The storm reached the coast at dawn."]
        #expect(Headline.dropLeading(from: body, titles: ["Breaking — storm hits the coast"]) == ["Storm hits the coast", "The storm reached the coast at dawn."])
        #expect(Headline.dropLeading(from: body, titles: ["Storm hits the coast", "breaking storm hits the coast"]) == ["The storm reached the coast at dawn."])
    }

    @Test func aBodyThatOnlyMentionsTheHeadlineLaterIsKept() {
        let body = ["The storm reached the coast at dawn.", "Storm hits the coast"]
        #expect(Headline.dropLeading(from: body, titles: ["Storm hits the coast"]) == body)
        #expect(Headline.dropLeading(from: body, titles: [""]) == body)
        #expect(Headline.comparable("Café, 2024!") == "café2024")
    }
}

@Suite struct ReadMoreTests {
    @Test func linkLinesAndMentionsAreFound() {
        #expect(ReadMore.isLinkLine("read more"))
        #expect(ReadMore.isLinkLine("weiterlesen"))
        #expect(ReadMore.isLinkLine("more"))
        #expect(!ReadMore.isLinkLine("read more about the storm in our live blog"))
        #expect(ReadMore.isMentioned(in: "the storm reached the coast… continue reading at the site"))
        // A bare word, or "full story" in a sentence, is prose, not a link.
        #expect(!ReadMore.isMentioned(in: "there is more to the full story than the mayor said"))
    }
}

@Suite struct MarkupParagraphsTests {
    @Test func eachFormatHasItsOneReading() {
        #expect(MarkupParagraphs.paragraphs("<p>One &amp; two</p><p>Three</p>", format: .html) == ["One & two", "Three"])
        // Plain text is not decoded: a literal "&amp;" in a plain-text feed stays.
        #expect(MarkupParagraphs.paragraphs("Fish &amp; chips\nSecond", format: .plainText) == ["Fish &amp; chips", "Second"])
        // Detect: tags mean HTML; otherwise escaped entities are decoded and lines kept.
        #expect(MarkupParagraphs.paragraphs("<p>Tagged</p>", format: .detect) == ["Tagged"])
        #expect(MarkupParagraphs.paragraphs("Fish &amp; chips&#8217;\nSecond line", format: .detect) == ["Fish & chips’", "Second line"])
        #expect(MarkupParagraphs.paragraphs(nil, format: .html).isEmpty)
        #expect(MarkupParagraphs.paragraphs("", format: .detect).isEmpty)
    }
}
