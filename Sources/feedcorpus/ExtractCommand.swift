import ArgumentParser
import ArticleExtractor
import DatesAndCharsets
import FeedModel
import DocumentInput
import FeedParser
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

    @Option(help: "Pages extracted at the same time when several are given (default: the number of CPU cores).")
    var jobs: Int?

    func validate() throws {
        if sources.isEmpty { throw ValidationError("give a page file or URL") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1 (got \(jobs))") }
    }

    func run() async throws {
        var failed = false
        var first = true
        let parallel = jobs ?? max(1, ProcessInfo.processInfo.activeProcessorCount)
        // Windows of pages: loaded in order, extracted in parallel, printed in order.
        let window = max(parallel * 8, 1)
        var start = 0
        while start < sources.count {
            let batch = Array(sources[start..<min(sources.count, start + window)])
            start += batch.count
            var pages: [Result<DocumentSource, DocumentSource.LoadError>] = []
            for source in batch {
                do {
                    pages.append(.success(try await DocumentSource.load(source)))
                } catch {
                    pages.append(.failure(error))
                }
            }
            let baseURL = url
            let contentType = self.contentType
            let articles = await withTaskGroup(of: (Int, ExtractedArticle?).self) { group -> [ExtractedArticle?] in
                var results = [ExtractedArticle?](repeating: nil, count: pages.count)
                var next = 0
                func submit() {
                    let index = next
                    next += 1
                    guard case .success(let page) = pages[index] else {
                        group.addTask { (index, nil) }
                        return
                    }
                    group.addTask {
                        (index, ArticleExtractor.extract(
                            html: page.bytes, url: baseURL ?? page.url,
                            httpCharset: ContentType.charset(contentType ?? page.contentType)))
                    }
                }
                while next < min(parallel, pages.count) { submit() }
                while let (index, article) = await group.next() {
                    results[index] = article
                    if next < pages.count { submit() }
                }
                return results
            }
            for (page, article) in zip(pages, articles) {
                if case .failure(let error) = page {
                    FileHandle.standardError.write(Data("feedcorpus: \(error.message)\n".utf8))
                    failed = true
                    continue
                }
                guard let article else { continue }
                if json {
                    print(try ArticleJSON.render(article))
                } else {
                    if !first { print("") }
                    print(StoryText(headline: article.title ?? "", paragraphs: article.paragraphs).fileContents, terminator: "")
                }
                first = false
            }
        }
        if failed { throw ExitCode(1) }
    }
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

    static func appendQuoted(_ value: String, to out: inout String) {
        var bytes: [UInt8] = []
        JSONOutput.appendQuoted(value, to: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }
}
