import ArgumentParser
import ArticleExtractor
import FeedConfig
import FeedModel
import FeedParser
import Fetcher
import Foundation

struct ExtractCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Extract the article text from a page (a file or a URL).",
        discussion: """
            Plain output is the corpus file format: the headline on line 1, then one paragraph per line.
            With --json: {"title","text","author","published","language","canonical_url"}, text being the body
            without the headline, paragraphs separated by "\\n". Several sources give one result each (JSON: one
            object per line; plain: separated by an empty line).
            """)

    @Argument(help: "Page file paths or http(s):// URLs.")
    var sources: [String]

    @Option(help: "The page's URL, for resolving relative links (default: the file's URL or the final URL fetched).")
    var url: String?

    @Option(help: "The HTTP Content-Type to assume for a file (its charset decides the decoding).")
    var contentType: String?

    @Flag(help: "Print JSON instead of the corpus file format.")
    var json = false

    func validate() throws {
        if sources.isEmpty { throw ValidationError("give a page file or URL") }
    }

    func run() async throws {
        var failed = false
        var first = true
        for source in sources {
            let page: (bytes: [UInt8], url: String, contentType: String?)
            do {
                page = try await load(source)
            } catch let error as ExtractSourceError {
                FileHandle.standardError.write(Data("feedcorpus: \(error.message)\n".utf8))
                failed = true
                continue
            }
            let article = ArticleExtractor.extract(
                html: page.bytes, url: url ?? page.url, httpCharset: DocumentEncoding.charset(fromContentType: page.contentType))
            if json {
                print(try ArticleJSON.render(article))
            } else {
                if !first { print("") }
                print(StoryText(headline: article.title ?? "", paragraphs: article.paragraphs).fileContents, terminator: "")
            }
            first = false
        }
        if failed { throw ExitCode(1) }
    }

    private func load(_ source: String) async throws -> (bytes: [UInt8], url: String, contentType: String?) {
        if source.hasPrefix("http://") || source.hasPrefix("https://") {
            let client = HTTPClient(settings: HTTPClientSettings(userAgent: FetchSettings.defaultUserAgent))
            defer { client.shutdown() }
            do {
                let response = try await client.fetch(FetchRequest(url: source))
                guard response.isSuccess else {
                    throw ExtractSourceError(message: "HTTP \(response.status) from \(response.effectiveURL)")
                }
                return (response.body, response.effectiveURL, contentType ?? response.headers["content-type"])
            } catch let error as FetchError {
                throw ExtractSourceError(message: error.description)
            }
        }
        guard let bytes = ParseCommand.readFile(source) else {
            throw ExtractSourceError(message: "cannot read \(source): no such file or not readable")
        }
        return (bytes, URL(fileURLWithPath: source).absoluteString, contentType)
    }
}

struct ExtractSourceError: Error {
    let message: String
}

/// The fixed JSON contract of `feedcorpus extract --json`.
enum ArticleJSON {
    static func render(_ article: ExtractedArticle) throws -> String {
        func value(_ string: String?) -> Any { string ?? NSNull() }
        let object: [String: Any] = [
            "title": value(article.title),
            "text": article.text,
            "author": value(article.author),
            "published": value(article.published.map(ISO8601.string)),
            "language": value(article.language),
            "canonical_url": value(article.canonicalURL),
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
