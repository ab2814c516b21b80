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

/// The fixed JSON contract of `feedcorpus extract --json`: one object on one line, keys sorted.
enum ArticleJSON {
    static func render(_ article: ExtractedArticle) throws -> String {
        let fields: [(String, String?)] = [
            ("author", article.author),
            ("canonical_url", article.canonicalURL),
            ("language", article.language),
            ("published", article.published.map(ISO8601.string)),
            ("text", article.text),
            ("title", article.title),
        ]
        var out = "{"
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { out += "," }
            out += "\"\(key)\":"
            if let value { appendQuoted(value, to: &out) } else { out += "null" }
        }
        return out + "}"
    }

    /// A JSON string literal (RFC 8259): quotes, backslashes and control characters escaped.
    static func appendQuoted(_ value: String, to out: inout String) {
        out += "\""
        var plainStart = value.unicodeScalars.startIndex
        var index = plainStart
        let scalars = value.unicodeScalars
        while index < scalars.endIndex {
            let scalar = scalars[index]
            let escape: String?
            switch scalar {
            case "\"": escape = "\\\""
            case "\\": escape = "\\\\"
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            case "\t": escape = "\\t"
            default: escape = scalar.value < 0x20 ? String(format: "\\u%04x", scalar.value) : nil
            }
            if let escape {
                out.unicodeScalars.append(contentsOf: scalars[plainStart..<index])
                out += escape
                plainStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        out.unicodeScalars.append(contentsOf: scalars[plainStart..<scalars.endIndex])
        out += "\""
    }
}
