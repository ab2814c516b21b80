import DatesAndCharsets
import Foundation
import TextCleanup
import XMLSupport

/// The metadata a page declares about its article: `<meta>` tags (Open Graph, article:*, Dublin
/// Core, common author/date names), `link rel=canonical`, `<html lang>`, `<title>`, `h1`, `time`
/// elements, microdata and JSON-LD (NewsArticle and the other Article types, also inside @graph).
struct PageMetadata {
    var title: String?
    var titleCandidates: [String] = []
    var author: String?
    var published: Date?
    var language: String?
    var canonicalURL: String?
    var siteName: String?
    /// JSON-LD `articleBody` split into paragraphs, when the page has one.
    var articleBody: [String]?
    /// The publisher's summary: og:description, else twitter:description, else the JSON-LD
    /// description, else `<meta name="description">`.
    var description: String?

    init(root: HTMLElement, url: String?) {
        var meta: [String: String] = [:]
        var canonical: String?
        var documentTitle: String?
        var headings: [String] = []
        var timeValues: [String] = []
        var microdataDate: String?
        var microdataAuthor: String?
        var articles: [[String: Any]] = []
        language = root.attribute("lang").flatMap(Self.languageCode)

        root.descendants { element in
            switch element.name {
            case "meta":
                let key = (element.attribute("property") ?? element.attribute("name") ?? element.attribute("itemprop"))?.lowercased()
                if let key, let content = element.attribute("content"), meta[key] == nil {
                    let value = HTMLText.collapseWhitespace(content)
                    if !value.isEmpty { meta[key] = value }
                }
                if let itemprop = element.attribute("itemprop")?.lowercased(), let content = element.attribute("content") {
                    if itemprop == "datepublished", microdataDate == nil { microdataDate = content }
                }
            case "link":
                if canonical == nil, let rel = element.attribute("rel")?.lowercased(),
                   rel.split(separator: " ").contains("canonical"), let href = element.attribute("href"), !href.isEmpty {
                    canonical = href
                }
            case "title":
                if documentTitle == nil { documentTitle = HTMLText.collapseWhitespace(element.textContent) }
            case "h1":
                let text = HTMLText.collapseWhitespace(element.textContent)
                if !text.isEmpty { headings.append(text) }
            case "time":
                if let value = element.attribute("datetime") { timeValues.append(value) }
            case "script":
                articles.append(contentsOf: Self.jsonLDArticles(element.textContent))
            default:
                break
            }
            if let itemprop = element.attribute("itemprop")?.lowercased() {
                if itemprop == "datepublished", microdataDate == nil {
                    microdataDate = element.attribute("datetime") ?? element.attribute("content") ?? element.textContent
                } else if itemprop == "author", microdataAuthor == nil {
                    let name = HTMLText.collapseWhitespace(element.textContent)
                    if !name.isEmpty { microdataAuthor = name }
                }
            }
        }

        let article = articles.first
        siteName = meta["og:site_name"]
        let jsonHeadline = (article?["headline"] as? String).map(HTMLText.collapseWhitespace)
        let cleanedTitle = documentTitle.map { Self.withoutSiteName($0, siteName: siteName) }
        title = [meta["og:title"].map { Self.withoutSiteName($0, siteName: siteName) }, jsonHeadline, headings.first, cleanedTitle]
            .compactMap { $0 }.first(where: { !$0.isEmpty })
        titleCandidates = [meta["og:title"], meta["twitter:title"], jsonHeadline, documentTitle, cleanedTitle, title]
            .compactMap { $0 } + headings

        let authorCandidates: [String?] = [
            article.flatMap { Self.names($0["author"]) }, meta["author"], meta["article:author"].flatMap { $0.hasPrefix("http") ? nil : $0 },
            meta["dc.creator"], meta["parsely-author"], meta["sailthru.author"], microdataAuthor,
        ]
        author = authorCandidates.compactMap { $0 }.first(where: { !$0.isEmpty })

        let dateCandidates: [String?] = [
            article?["datePublished"] as? String, meta["article:published_time"], meta["og:published_time"],
            meta["datepublished"], meta["pubdate"], meta["publishdate"], meta["parsely-pub-date"], meta["sailthru.date"],
            meta["dc.date.issued"], meta["dc.date"], meta["date"], microdataDate, timeValues.first,
        ]
        published = dateCandidates.compactMap { $0 }.lazy.compactMap { FeedDate.parse($0.trimmingCharacters(in: .whitespacesAndNewlines)) }.first

        if language == nil {
            language = (article?["inLanguage"] as? String).flatMap(Self.languageCode)
                ?? meta["og:locale"].flatMap(Self.languageCode) ?? meta["content-language"].flatMap(Self.languageCode)
        }

        let canonicalCandidates: [String?] = [canonical, meta["og:url"], article?["url"] as? String]
        canonicalURL = canonicalCandidates.compactMap { $0 }.lazy.compactMap { Self.absoluteURL($0, base: url) }.first

        if let body = article?["articleBody"] as? String {
            let paragraphs = MarkupParagraphs.paragraphs(body, format: .detect)
            if !paragraphs.isEmpty { articleBody = paragraphs }
        }
        let jsonDescription = (article?["description"] as? String).map(HTMLText.collapseWhitespace)
        description = [meta["og:description"], meta["twitter:description"], jsonDescription, meta["description"]]
            .compactMap { $0 }.first { !$0.isEmpty }
    }

    /// The primary language subtag, lower case ("en-GB" and "en_GB" give "en").
    static func languageCode(_ raw: String) -> String? {
        let code = raw.trimmingCharacters(in: .whitespaces).lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).first.map(String.init)
        guard let code, (2...3).contains(code.count), code.allSatisfy({ $0.isLetter && $0.isASCII }) else { return nil }
        return code
    }

    /// A page title without the " | Site name" / " - Site" part.
    static func withoutSiteName(_ title: String, siteName: String?) -> String {
        let trimmed = HTMLText.collapseWhitespace(title)
        for separator in [" | ", " - ", " – ", " — ", " :: ", " · ", " • "] {
            guard let range = trimmed.range(of: separator, options: .backwards) else { continue }
            let head = String(trimmed[..<range.lowerBound])
            let tail = String(trimmed[range.upperBound...])
            if let siteName, Headline.comparable(tail) == Headline.comparable(siteName) { return head }
            // Without a known site name: a short last part after a long first part is the site.
            if tail.count <= 30, head.count >= 2 * tail.count { return withoutSiteName(head, siteName: siteName) }
        }
        return trimmed
    }

    static func absoluteURL(_ raw: String, base: String?) -> String? {
        let value = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { return nil }
        let resolved = base.flatMap { URL(string: $0) }.flatMap { URL(string: value, relativeTo: $0) } ?? URL(string: value)
        guard let absolute = resolved?.absoluteURL, let scheme = absolute.scheme?.lowercased(), scheme == "http" || scheme == "https" else { return nil }
        return absolute.absoluteString
    }

    /// Author names from a JSON-LD `author`: a string, a Person/Organization, or a list of them.
    static func names(_ value: Any?) -> String? {
        switch value {
        case let string as String:
            let name = HTMLText.collapseWhitespace(string)
            return name.isEmpty || name.hasPrefix("http") ? nil : name
        case let object as [String: Any]:
            return names(object["name"])
        case let list as [Any]:
            let all = list.compactMap(names)
            return all.isEmpty ? nil : all.joined(separator: ", ")
        default:
            return nil
        }
    }

    /// Article objects (any @type ending in Article, BlogPosting, Report) in a JSON-LD script.
    static func jsonLDArticles(_ json: String) -> [[String: Any]] {
        let trimmed = json.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, let data = trimmed.data(using: .utf8),
              let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return [] }
        var found: [[String: Any]] = []
        func visit(_ value: Any, depth: Int) {
            guard depth < 8 else { return }
            if let list = value as? [Any] {
                for item in list { visit(item, depth: depth + 1) }
            } else if let object = value as? [String: Any] {
                if isArticleType(object["@type"]) { found.append(object) }
                if let graph = object["@graph"] { visit(graph, depth: depth + 1) }
                if let main = object["mainEntity"] { visit(main, depth: depth + 1) }
            }
        }
        visit(value, depth: 0)
        // The object with a body first.
        return found.sorted { ($0["articleBody"] is String ? 0 : 1) < ($1["articleBody"] is String ? 0 : 1) }
    }

    static func isArticleType(_ value: Any?) -> Bool {
        let types: [String] = (value as? String).map { [$0] } ?? (value as? [Any])?.compactMap { $0 as? String } ?? []
        return types.contains { type in
            let lower = type.lowercased()
            return lower.hasSuffix("article") || lower == "blogposting" || lower == "report" || lower == "liveblogposting"
        }
    }
}
