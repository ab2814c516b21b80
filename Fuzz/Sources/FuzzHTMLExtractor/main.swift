import ArticleExtractor

/// Any bytes as an article page.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTMLExtractor(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let article = ArticleExtractor.extract(html: bytes, url: "https://fuzz.example/news/story.html", httpCharset: nil)
    _ = (article.paragraphs.count, article.title, article.canonicalURL)
    return 0
}
