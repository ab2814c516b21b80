import Dedupe
import FeedModel
import Foundation
import Testing

@Suite struct HashNormalizerTests {
    @Test func typographyCaseAndSpacingDoNotMatter() {
        let plain = HashNormalizer.normalize("He said \"it's over\" - today.")
        let fancy = HashNormalizer.normalize("He  said “it’s OVER” — today…")
        #expect(plain == fancy)
        #expect(plain == "he said it s over today")
    }

    @Test func compatibilityCharactersAreFolded() {
        #expect(HashNormalizer.normalize("ﬁnance Ｔｏｋｙｏ") == "finance tokyo")
    }

    @Test func differentWordsStayDifferent() {
        #expect(HashNormalizer.normalize("Putin met Choe") != HashNormalizer.normalize("Putin met Kim"))
    }
}

@Suite struct FingerprintTests {
    @Test func nameTailIsTheFirst64BitsOfTheSHA256() {
        let fingerprint = TextFingerprint(normalizedText: "abc")
        // SHA-256("abc"), a published test vector.
        #expect(fingerprint.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(fingerprint.nameTail == "ba7816bf8f01cfea")
    }

    @Test func headlineIsNotPartOfTheHashWhenTheBodyIsLongEnough() {
        let body = (1...31).map { "w\($0)" }.joined(separator: " ")
        let a = TextFingerprint(story: StoryText(headline: "Headline A", paragraphs: ["Same body.", body + "."]))
        let b = TextFingerprint(story: StoryText(headline: "Another headline", paragraphs: ["Same   body.", body]))
        #expect(a.sha256 == b.sha256)
        #expect(a.simhash == b.simhash && a.signature == b.signature)
        #expect(a.headlineHash != b.headlineHash)
        // A short body (a teaser of a sentence or two) is hashed with its headline.
        let c = TextFingerprint(story: StoryText(headline: "Headline A", paragraphs: ["Same body.", "Second paragraph."]))
        let d = TextFingerprint(story: StoryText(headline: "Another headline", paragraphs: ["Same   body.", "Second paragraph"]))
        let e = TextFingerprint(story: StoryText(headline: "headline  a", paragraphs: ["Same body!", "Second paragraph"]))
        #expect(c.sha256 != d.sha256)
        #expect(c.sha256 == e.sha256)
        #expect(TextFingerprint.bodyOnlySHA256(of: StoryText(headline: "Headline A", paragraphs: ["Same body.", "Second paragraph."]))
                == TextFingerprint.bodyOnlySHA256(of: StoryText(headline: "Another headline", paragraphs: ["Same   body.", "Second paragraph"])))
        let headlineOnly = TextFingerprint(story: StoryText(headline: "Only a headline", paragraphs: []))
        #expect(headlineOnly.sha256 == TextFingerprint(normalizedText: "only a headline").sha256)
    }

    @Test func simhashIsCloseForSmallEditsAndFarForOtherText() {
        let base = (1...60).map { "Sentence number \($0) of the story about troops in the Kursk region." }.joined(separator: " ")
        let edited = base.replacingOccurrences(of: "number 17 ", with: "number seventeen ")
        let other = (1...60).map { "Paragraph \($0) on football results and the weather in Lisbon today." }.joined(separator: " ")
        let a = SimHash.compute(HashNormalizer.normalize(base))
        let b = SimHash.compute(HashNormalizer.normalize(edited))
        let c = SimHash.compute(HashNormalizer.normalize(other))
        #expect(SimHash.distance(a, b) <= 3)
        #expect(SimHash.distance(a, c) > 10)
        #expect(TextFingerprint(normalizedText: "x").simhashHex.count == 16)
    }
}

@Suite struct URLCanonicalizerTests {
    let canonicalizer = URLCanonicalizer()

    @Test(arguments: [
        ("HTTPS://News.Example.COM/a/b?utm_source=rss&id=7&fbclid=xyz#comments", "https://news.example.com/a/b?id=7"),
        ("http://news.example:80/x?gclid=1", "http://news.example/x"),
        ("https://news.example:443", "https://news.example/"),
        ("https://news.example/x?mc_cid=1&mc_eid=2&ocid=3&cmpid=4", "https://news.example/x"),
        ("https://news.example/x?page=2", "https://news.example/x?page=2"),
    ])
    func canonicalizes(input: String, expected: String) {
        #expect(canonicalizer.canonicalize(input) == expected)
    }

    @Test func trackingListIsConfigurable() {
        let custom = URLCanonicalizer(trackingParameters: ["ref", "src_*"])
        #expect(custom.canonicalize("https://a.example/?ref=x&src_a=1&utm_source=y") == "https://a.example/?utm_source=y")
    }
}
