import Foundation
import TextCleanup
import XMLSupport

/// What the extractor found on an article page.
public struct ExtractedArticle: Sendable, Equatable {
    /// The headline: og:title, else the JSON-LD headline, else the first `h1`, else the `<title>`
    /// without its site-name suffix.
    public var title: String?
    /// The article body, one paragraph per element, in reading order, without the headline.
    public var paragraphs: [String]
    public var author: String?
    public var published: Date?
    /// The page's language: `<html lang>` / og:locale / JSON-LD `inLanguage`, else a guess from
    /// the text (see `LanguageGuess`).
    public var language: String?
    /// `link rel=canonical`, else og:url, else the JSON-LD url; resolved against the page URL.
    public var canonicalURL: String?
    /// True when the page looks like a paywall or a consent wall rather than the article.
    public var isWall: Bool
    /// Which signal the body came from, for diagnostics: "dom", "json-ld", or "description" (the
    /// page's meta description, when the page holds no article text at all).
    public var method: String

    /// The body, paragraphs separated by "\n".
    public var text: String { paragraphs.joined(separator: "\n") }

    public init(title: String? = nil, paragraphs: [String] = [], author: String? = nil, published: Date? = nil,
                language: String? = nil, canonicalURL: String? = nil, isWall: Bool = false, method: String = "dom") {
        self.title = title
        self.paragraphs = paragraphs
        self.author = author
        self.published = published
        self.language = language
        self.canonicalURL = canonicalURL
        self.isWall = isWall
        self.method = method
    }
}

/// Extracts the story from an article page: the body text without navigation, boilerplate,
/// captions, comments and related links, plus the page's metadata.
public enum ArticleExtractor {
    /// Extracts the article from the raw bytes of a page.
    /// - Parameters:
    ///   - html: the page as served.
    ///   - url: the page's URL after redirects, to resolve relative canonical links.
    ///   - httpCharset: the charset parameter of the HTTP Content-Type, if any.
    public static func extract(html: [UInt8], url: String? = nil, httpCharset: String? = nil) -> ExtractedArticle {
        guard let root = HTMLDOM.parse(html, httpCharset: httpCharset, url: url) else { return ExtractedArticle() }
        return extract(root: root, url: url)
    }

    /// Characters a meta description must have to stand in for an empty body (a sentence, not
    /// a site slogan).
    static let descriptionMinimum = 40

    /// Extracts the article from a parsed page.
    public static func extract(root: HTMLElement, url: String?) -> ExtractedArticle {
        let metadata = PageMetadata(root: root, url: url)
        var finder = ContentFinder(root: root)
        var paragraphs = TrailingLines.trimmed(finder.bodyParagraphs())
        var method = "dom"
        if let structured = metadata.articleBody, StructuredBody.prefer(structured, over: paragraphs) {
            paragraphs = structured
            method = "json-ld"
        }
        if paragraphs.isEmpty, let description = metadata.description, description.count >= Self.descriptionMinimum {
            // A page whose text is all drawn by scripts: the publisher's own summary is all there
            // is of the story (the pipeline still prefers a longer feed text).
            paragraphs = [description]
            method = "description"
        }
        paragraphs = Headline.dropLeading(from: paragraphs, titles: metadata.titleCandidates)
        let text = paragraphs.joined(separator: " ")
        let language = metadata.language ?? LanguageGuess.guess(text)
        return ExtractedArticle(
            title: metadata.title, paragraphs: paragraphs, author: metadata.author, published: metadata.published,
            language: language, canonicalURL: metadata.canonicalURL,
            isWall: WallDetector.looksLikeWall(paragraphs: paragraphs), method: method)
    }
}

/// When JSON-LD `articleBody` is used instead of the text found in the page.
enum StructuredBody {
    /// The structured body is taken when it is substantial and not much shorter than the page's
    /// body (sites truncate it, or put only a summary there).
    static func prefer(_ structured: [String], over dom: [String]) -> Bool {
        let structuredLength = structured.reduce(0) { $0 + $1.count }
        let domLength = dom.reduce(0) { $0 + $1.count }
        guard structuredLength >= 200 else { return false }
        return Double(structuredLength) >= Double(domLength) * 0.9
    }
}

/// The short lines a page puts after its story, inside the same container: the heading of a
/// links box ("Mehr zum Thema", "Zum Weiterlesen", "Auch interessant"), "Kontakt:", a time
/// stamp, a site name. A story ends with a sentence; the lines after its last sentence that
/// are short and end with none are dropped (a few at most).
enum TrailingLines {
    /// Lines at most this long (characters) can be dropped.
    static let shortLine = 60
    /// At most this many lines are dropped.
    static let maximumDropped = 3

    static func trimmed(_ paragraphs: [String]) -> [String] {
        var end = paragraphs.count
        while end > 1, paragraphs.count - end < maximumDropped, isTrailer(paragraphs[end - 1]) { end -= 1 }
        // Only when a sentence is left before them: a body of short lines (a list, a recipe's
        // ingredients) is kept as it is.
        guard end < paragraphs.count, endsSentence(paragraphs[end - 1]) else { return paragraphs }
        return Array(paragraphs[..<end])
    }

    static func isTrailer(_ line: String) -> Bool {
        let length = line.count
        // A short question after the story asks the reader to act ("War der Artikel nützlich?").
        return length <= shortLine && (!endsSentence(line) || line.hasSuffix(":") || (length <= 40 && line.hasSuffix("?")))
    }

    static func endsSentence(_ line: String) -> Bool {
        guard let last = line.unicodeScalars.last(where: { !$0.properties.isWhitespace }) else { return false }
        return ".!?…\"”»“«'’)".unicodeScalars.contains(last)
    }
}
