@testable import ArticleExtractor
import Foundation
import Testing
import XMLSupport

private func extract(_ html: String, url: String? = "https://news.example/2024/story", httpCharset: String? = nil) -> ExtractedArticle {
    ArticleExtractor.extract(html: Array(html.utf8), url: url, httpCharset: httpCharset)
}

private let storyParagraphs = [
    "The city council approved the new bridge on Monday, ending a debate that lasted three years and divided the old town.",
    "Construction will begin in the spring, the mayor said, and the bridge should open to pedestrians and cyclists by 2027.",
    "Opponents had argued that the money, about 40 million euros, would be better spent on schools, buses and housing.",
    "The council's decision follows a public consultation in which a narrow majority of residents supported the plan.",
]

private func page(body: String, head: String = "", htmlAttributes: String = " lang=\"en\"") -> String {
    "<!DOCTYPE html><html\(htmlAttributes)><head><meta charset=\"utf-8\"><title>Council approves bridge | City News</title>\(head)</head><body>\(body)</body></html>"
}

private let storyHTML = storyParagraphs.map { "<p>\($0)</p>" }.joined(separator: "\n")

@Suite struct ExtractionTests {
    @Test func leavesOutNavigationSharingCommentsCaptionsAndRelatedLinks() {
        let html = page(body: """
            <div class="cookie-consent"><p>We use cookies to give you the best experience. Accept all cookies to continue reading.</p></div>
            <header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
            <main><article>
              <h1>Council approves bridge</h1>
              <div class="share-tools"><a href="#">Share on Facebook</a> <a href="#">Tweet this</a></div>
              <figure><img src="x.jpg"><figcaption>The river at dusk. Photo: City archive, all rights reserved.</figcaption></figure>
              <div class="article-body">\(storyHTML)
                <div class="ad-slot">Advertisement</div>
              </div>
              <div class="newsletter-box"><p>Sign up for our morning newsletter, with the day's news in your inbox.</p></div>
              <section class="comments"><p>Leave a review. Comments are closed for this story, sorry about that.</p></section>
              <ul class="related-stories"><li><a href="/a">Council debates the bridge budget again, a long story</a></li></ul>
            </article>
            <aside><p>Most read: the ten best cafés in the old town, reviewed by our critics this week.</p></aside></main>
            <footer><p>© 2024 City News. All rights reserved. Terms and privacy policy apply.</p></footer>
            """)
        let article = extract(html)
        #expect(article.paragraphs == storyParagraphs)
        #expect(article.title == "Council approves bridge")
    }

    @Test func textDirectlyInsideAContainerIsAParagraph() {
        let html = page(body: """
            <div class="menu"><a href="/">Home</a> | <a href="/n">News</a></div>
            <div class="col-main"><p class="headline">Council approves bridge</p>
            <small>05/10/2024 - by the city desk</small><br><br>
            \(storyParagraphs.joined(separator: "<br><br>\n"))
            </div>
            """)
        let article = extract(html)
        for paragraph in storyParagraphs { #expect(article.paragraphs.contains(paragraph)) }
        #expect(!article.text.contains("Home"))
    }

    @Test func aStorySplitIntoChunksBetweenAdSlotsIsKeptWhole() {
        let chunks = storyParagraphs.map { "<div class=\"grid\"><div class=\"body-chunk\"><p>\($0)</p></div><div class=\"ad-rail\"></div></div>" }
        let html = page(body: "<div class=\"article-chunks\">\(chunks.joined())</div><div class=\"footer-links\"><a href=\"/x\">About us</a></div>")
        #expect(extract(html).paragraphs == storyParagraphs)
    }

    @Test func embeddedPostsAreKeptAndBoilerplateLinesDropped() {
        let html = page(body: """
            <article><div class="body">\(storyHTML)
            <div class="social-media-embed"><blockquote class="twitter-tweet"><p>The bridge is finally happening, what a day for the old town!</p>— Resident (@resident) November 4, 2024</blockquote></div>
            <p>Read more</p><p>Advertisement</p></div></article>
            """)
        let article = extract(html)
        #expect(article.paragraphs.contains("The bridge is finally happening, what a day for the old town!"))
        #expect(!article.paragraphs.contains("Read more"))
        #expect(!article.paragraphs.contains("Advertisement"))
    }

    @Test func jsonLDArticleBodyIsUsedWhenThePageHidesTheText() {
        let body = storyParagraphs.joined(separator: "\n")
        let json = "{\"@context\":\"https://schema.org\",\"@graph\":[{\"@type\":\"WebPage\"},{\"@type\":\"NewsArticle\",\"headline\":\"Council approves bridge\",\"articleBody\":\(jsonString(body)),\"author\":[{\"@type\":\"Person\",\"name\":\"Ann Lee\"},{\"@type\":\"Person\",\"name\":\"Bo Chen\"}],\"datePublished\":\"2024-11-04T09:30:00+01:00\"}]}"
        // The page's own body only shows the first paragraph (the rest is loaded by a script).
        let html = page(body: "<article><p>\(storyParagraphs[0])</p></article>", head: "<script type=\"application/ld+json\">\(json)</script>")
        let article = extract(html)
        #expect(article.method == "json-ld")
        #expect(article.paragraphs == storyParagraphs)
        #expect(article.author == "Ann Lee, Bo Chen")
        #expect(article.published == Date(timeIntervalSince1970: 1_730_709_000))
    }

    @Test func aJSONLDSummaryDoesNotReplaceTheFullText() {
        let json = "{\"@type\":\"NewsArticle\",\"articleBody\":\(jsonString(storyParagraphs[0] + " " + storyParagraphs[1]))}"
        let long = storyParagraphs + storyParagraphs.map { $0.replacingOccurrences(of: "bridge", with: "tunnel") }
        let html = page(body: "<article>\(long.map { "<p>\($0)</p>" }.joined())</article>", head: "<script type=\"application/ld+json\">\(json)</script>")
        let article = extract(html)
        #expect(article.method == "dom")
        #expect(article.paragraphs == long)
    }

    @Test func aRepeatedHeadlineAtTheStartIsDropped() {
        let html = page(body: "<div class=\"story\"><p><b>Council approves bridge</b></p>\(storyHTML)</div>",
                        head: "<meta property=\"og:title\" content=\"Council approves bridge\">")
        #expect(extract(html).paragraphs == storyParagraphs)
    }

    @Test func paywallAndConsentPagesAreRecognised() {
        let wall = page(body: "<article><p>\(storyParagraphs[0])</p><div class=\"paywall-box\"><p>Subscribe to continue reading. Already a subscriber? Log in.</p></div><p>To continue reading, subscribe for 1 euro a week.</p></article>")
        #expect(extract(wall).isWall)
        #expect(!extract(page(body: "<article>\(storyHTML)</article>")).isWall)
    }
}

@Suite struct MetadataTests {
    @Test func readsOpenGraphArticleTagsCanonicalAndLanguage() {
        let head = """
            <meta property="og:title" content="Council approves bridge">
            <meta property="og:site_name" content="City News">
            <meta name="author" content="Ann Lee">
            <meta property="article:published_time" content="2024-11-04T08:30:00Z">
            <link rel="canonical" href="/2024/11/04/bridge">
            """
        let article = extract(page(body: "<article>\(storyHTML)</article>", head: head, htmlAttributes: " lang=\"en-GB\""))
        #expect(article.title == "Council approves bridge")
        #expect(article.author == "Ann Lee")
        #expect(article.published == Date(timeIntervalSince1970: 1_730_709_000))
        #expect(article.canonicalURL == "https://news.example/2024/11/04/bridge")
        #expect(article.language == "en")
    }

    @Test func titleLosesTheSiteNameAndOgURLIsTheCanonicalFallback() {
        let head = "<meta property=\"og:url\" content=\"https://news.example/bridge\"><meta property=\"og:site_name\" content=\"City News\">"
        let html = "<html><head><title>Council approves bridge - City News</title>\(head)</head><body><article>\(storyHTML)</article></body></html>"
        let article = extract(html)
        #expect(article.title == "Council approves bridge")
        #expect(article.canonicalURL == "https://news.example/bridge")
    }

    @Test func publishedTimeFromATimeElementAndLanguageGuessedFromText() {
        let german = [
            "Der Stadtrat hat am Montag den Bau der neuen Brücke beschlossen, nachdem die Debatte drei Jahre gedauert hatte.",
            "Die Bauarbeiten sollen im Frühjahr beginnen, und die Brücke wird für Fußgänger und Radfahrer im Jahr 2027 eröffnet.",
            "Die Gegner hatten argumentiert, dass das Geld besser für die Schulen und den Bus ausgegeben werden sollte.",
        ]
        let html = "<html><head><title>Brücke</title></head><body><article><time datetime=\"2024-11-04T10:00:00+01:00\">4. November</time>\(german.map { "<p>\($0)</p>" }.joined())</article></body></html>"
        let article = extract(html)
        #expect(article.language == "de")
        #expect(article.published == Date(timeIntervalSince1970: 1_730_710_800))
    }
}

@Suite struct CharsetTests {
    let latin1Page: [UInt8] = Array("<html><head><meta charset=\"iso-8859-1\"></head><body><article><p>Caf".utf8) + [0xE9]
        + Array(" au bord de la rivi".utf8) + [0xE8] + Array("re, ouvert tous les jours de la semaine.</p></article></body></html>".utf8)

    @Test func metaCharsetDecidesWithoutAnHTTPCharset() {
        let article = ArticleExtractor.extract(html: latin1Page)
        #expect(article.text == "Café au bord de la rivière, ouvert tous les jours de la semaine.")
    }

    @Test func theHTTPCharsetBeatsTheMetaCharset() {
        let page = Array("<html><head><meta charset=\"iso-8859-1\"></head><body><article><p>Café au bord de la rivière, ouvert tous les jours.</p></article></body></html>".utf8)
        #expect(ArticleExtractor.extract(html: page, httpCharset: "utf-8").text == "Café au bord de la rivière, ouvert tous les jours.")
    }

    @Test func anUndeclaredPageIsUTF8AndNeverLatin1() {
        // Invalid UTF-8 in an undeclared page becomes U+FFFD, not Latin-1 mojibake; the valid
        // UTF-8 around it stays as it is.
        let bytes = Array("<html><body><article><p>Zürich ".utf8) + [0xE9] + Array(" café, un texte assez long pour être un paragraphe.</p></article></body></html>".utf8)
        let text = ArticleExtractor.extract(html: bytes).text
        #expect(text == "Zürich \u{FFFD} café, un texte assez long pour être un paragraphe.")
    }

    @Test func aByteOrderMarkWins() {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("<html><head><meta charset=\"windows-1251\"></head><body><article><p>Zürich liegt am See und hat viele Brücken.</p></article></body></html>".utf8)
        #expect(ArticleExtractor.extract(html: bytes).text == "Zürich liegt am See und hat viele Brücken.")
    }

    /// Some templates wrap the whole article in an `aside`; the publisher's microdata
    /// (`itemprop="articleBody"`) says where the story is, so its containers stay.
    @Test func anAsideHoldingTheMicrodataArticleBodyIsNotBoilerplate() {
        let html = page(body: """
            <nav><a href="/">Home</a> <a href="/politics">Politics</a></nav>
            <main><aside class="pa-direct-content"><section itemscope itemtype="http://schema.org/Article">
              <h1 itemprop="headline">Storm hits the coast</h1>
              <div class="text-detail" itemprop="articleBody">\(storyHTML)</div>
            </section></aside>
            <aside class="service"><p>Weather: sunny. Traffic: light. Horoscope and more in our service corner today.</p></aside></main>
            """)
        let article = extract(html)
        #expect(article.paragraphs == storyParagraphs)
        // Without the microdata the aside is boilerplate, as before.
        let plain = extract(html.replacingOccurrences(of: " itemprop=\"articleBody\"", with: ""))
        #expect(plain.paragraphs != storyParagraphs)
    }

    @Test func scriptsStylesAndCommentsNeverBecomeText() {
        let html = page(body: "<article><!-- <p>hidden comment paragraph that is long enough to count</p> --><script>var s = '</div><p>not text at all, a script string</p>';</script><style>p { color: red }</style>\(storyHTML)<noscript><p>Please enable JavaScript to view the comments powered by Disqus.</p></noscript></article>")
        #expect(extract(html).paragraphs == storyParagraphs)
    }
}

@Suite struct DevelopmentSetTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/extraction-dev").standardizedFileURL

    /// The benchmark's metric (see the set's README): 4-token shingles, multiset overlap.
    static func shingles(_ text: String) -> [String: Int] {
        var tokens: [Substring] = []
        var start: String.Index?
        for index in text.indices {
            let character = text[index]
            let isWord = character.isLetter || character.isNumber || character == "_" || character.unicodeScalars.contains { $0.properties.generalCategory == .nonspacingMark }
            if isWord {
                if start == nil { start = index }
            } else if let begin = start {
                tokens.append(text[begin..<index])
                start = nil
            }
        }
        if let begin = start { tokens.append(text[begin...]) }
        var counts: [String: Int] = [:]
        if tokens.isEmpty { return counts }
        if tokens.count <= 4 { counts[tokens.joined(separator: " "), default: 0] += 1; return counts }
        for index in 0...(tokens.count - 4) { counts[tokens[index..<index + 4].joined(separator: " "), default: 0] += 1 }
        return counts
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: folder.appendingPathComponent("ground-truth.json").path),
                   "needs ../shared/extraction-dev beside the repository"))
    func scoresAtLeastTheTargetOnTheDevelopmentSet() throws {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("ground-truth.json"))
        let truth = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: String]])
        var precisions: [Double] = []
        var recalls: [Double] = []
        var f1s: [Double] = []
        for (id, entry) in truth {
            let compressed = try Data(contentsOf: Self.folder.appendingPathComponent("html/\(id).html.gz"))
            let html = try gunzip(compressed)
            let text = ArticleExtractor.extract(html: html, url: entry["url"]).text
            #expect(!text.isEmpty, "empty extraction for \(id)")
            let ours = Self.shingles(text)
            let theirs = Self.shingles(entry["articleBody"] ?? "")
            let shared = ours.reduce(0) { $0 + min($1.value, theirs[$1.key] ?? 0) }
            let extracted = ours.values.reduce(0, +)
            let expected = theirs.values.reduce(0, +)
            let recall = expected == 0 ? 0 : Double(shared) / Double(expected)
            recalls.append(recall)
            if extracted > 0 {
                let precision = Double(shared) / Double(extracted)
                precisions.append(precision)
                f1s.append(precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall))
            } else {
                f1s.append(0)
            }
        }
        let precision = precisions.reduce(0, +) / Double(precisions.count)
        let recall = recalls.reduce(0, +) / Double(recalls.count)
        let f1 = 2 * precision * recall / (precision + recall)
        let meanF1 = f1s.reduce(0, +) / Double(f1s.count)
        #expect(f1 >= 0.975, "F1 \(f1)")
        #expect(meanF1 >= 0.965, "mean page F1 \(meanF1)")
    }

    /// gzip via the system's gzip (the pages stay compressed in ../shared).
    func gunzip(_ data: Data) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -dc"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let writer = Thread {
            input.fileHandleForWriting.write(data)
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let result = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return [UInt8](result)
    }
}

private func jsonString(_ text: String) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: [text], options: [])) ?? Data("[\"\"]".utf8)
    let array = String(decoding: data, as: UTF8.self)
    return String(array.dropFirst().dropLast())
}

/// Class names are weak evidence: a story is not lost to a word in its wrapper's class.
@Suite struct WeakClassEvidenceTests {
    /// A story of a realistic length (about 1,200 characters).
    private let story = storyParagraphs + [
        "Engineers expect the steel deck to be delivered in sections by barge, so river traffic will be closed for two weeks next summer.",
        "Shop owners on both banks welcomed the decision, saying that the crossing would bring customers back to streets that have emptied.",
        "The regional government has promised to cover a third of the cost, provided that the works begin before the end of next year.",
        "A smaller group of residents said they would appeal to the administrative court, arguing that the view of the cathedral would suffer.",
        "The council will publish the final design in January, together with a timetable for the closures and the diversions they require.",
    ]
    private var html: String { story.map { "<p>\($0)</p>" }.joined() }

    private let comments = (1...14).map { "<li class=\"comment\"><p>Reader \($0) wrote a long comment about the bridge, the budget, the river and the council's plans for the old town.</p></li>" }
        .joined()

    @Test func anArticleBlockWithTagClassesKeepsItsStoryBesideLongComments() {
        let page = page(body: """
            <main><article class="post type-post hentry tag-jobs tag-share has-paywall">\(html)</article>
            <ol class="comment-list">\(comments)</ol></main>
            """)
        #expect(extract(page).paragraphs == story)
    }

    @Test func aPageWhoseClassNamesLeaveNothingIsReadAgainWithoutThem() {
        // Every section of the story is marked as holding ad slots; nothing names it an article.
        let sections = story.map { "<section class=\"Report__Section Report__Section--ads\"><p>\($0)</p></section>" }.joined()
        let article = extract(page(body: "<div class=\"Report\">\(sections)</div><footer><p>Imprint and privacy policy, all rights reserved.</p></footer>"))
        #expect(article.paragraphs == story)
    }

    @Test func aStoryUnderAnAriaHiddenWrapperIsFoundByTheFallback() {
        let article = extract(page(body: "<div aria-hidden=\"true\" class=\"page\"><div class=\"story\">\(html)</div></div><div class=\"modal\"><p>Subscribe now.</p></div>"))
        #expect(article.paragraphs == story)
    }

    @Test func aFormWrappingTheWholePageIsNotFurniture() {
        // ASP.NET pages put everything in one form; a forum's posts may be divs without a `p`.
        let posts = story.map { "<div class=\"PostText\">\($0)</div>" }.joined()
        let article = extract(page(body: "<form id=\"aspnetForm\" method=\"post\"><div class=\"thread\">\(posts)</div></form><footer>Imprint</footer>"))
        #expect(article.paragraphs == story)
        // A form that is a form (a newsletter box beside the story) still goes.
        let beside = extract(page(body: "<article>\(html)</article><form><div>Subscribe to our newsletter for the latest news every morning.</div></form>"))
        #expect(beside.paragraphs == story)
    }

    @Test func aPageWithoutTextFallsBackToItsDescription() {
        let description = "The council approved the new bridge over the river after a two-year debate about its cost."
        let shell = extract(page(body: "<div id=\"app\"></div><script>render()</script>",
                                 head: "<title>Bridge approved</title><meta property=\"og:description\" content=\"\(description)\">"))
        #expect(shell.paragraphs == [description])
        #expect(shell.method == "description")
        // Where the page has the story, the description is not used.
        let full = extract(page(body: "<article>\(html)</article>", head: "<meta name=\"description\" content=\"\(description)\">"))
        #expect(full.paragraphs == story && full.method == "dom")
        // A slogan is no summary.
        #expect(extract(page(body: "<div id=\"app\"></div>", head: "<meta name=\"description\" content=\"Your news, fast.\">")).paragraphs.isEmpty)
    }

    @Test func classNamesStillRemoveBoilerplateWhenTheStoryIsFound() {
        let article = extract(page(body: "<article>\(html)</article><div class=\"tag-cloud\"><p>Tags: bridge, council, river, budget, old town, mayor, schools.</p></div>"))
        #expect(article.paragraphs == story)
    }
}

/// Clean-up of the lines around the story.
@Suite struct LineCleanupTests {
    @Test func shortLinesAfterTheLastSentenceAreDropped() {
        let html = page(body: "<article>\(storyHTML)<p>Mehr zum Thema</p><p>Kontakt:</p><p>War der Artikel nützlich?</p></article>")
        #expect(extract(html).paragraphs == storyParagraphs)
    }

    @Test func aBodyOfShortLinesIsKept() {
        let lines = ["200 g flour", "3 eggs", "100 ml milk", "1 pinch of salt"]
        #expect(TrailingLines.trimmed(lines) == lines)
        #expect(TrailingLines.trimmed(storyParagraphs + ["Auch interessant:", "11.04.2020, 10:27"]) == storyParagraphs)
        #expect(TrailingLines.trimmed(storyParagraphs + ["Was meint ihr dazu, liebe Leserinnen und Leser des Blogs hier?"]) == storyParagraphs + ["Was meint ihr dazu, liebe Leserinnen und Leser des Blogs hier?"])
    }

    @Test func noBreakSpaceLinesAndIndentationGo() {
        let html = page(body: "<article><p>\u{A0}\u{A0}\(storyParagraphs[0])</p><p>\u{A0}</p><p>\u{3000}\(storyParagraphs[1])\u{A0}</p>\(storyParagraphs[2...].map { "<p>\($0)</p>" }.joined())</article>")
        #expect(extract(html).paragraphs == storyParagraphs)
    }

    @Test func stockLinesInOtherLanguagesGo() {
        let html = page(body: "<article>\(storyParagraphs.map { "<p>\($0)</p><p>Anzeige</p>" }.joined())<p>Lire aussi : le pont</p></article>")
        #expect(extract(html).paragraphs == storyParagraphs)
    }
}
