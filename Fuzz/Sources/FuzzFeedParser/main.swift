import FeedParser

/// Any bytes as a feed document: parsing may fail with an error, never crash, hang or grow
/// without bound.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFeedParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let feed = try? FeedParser.parse(bytes, url: "https://fuzz.example/feed/", contentType: nil) {
        // Touch what the pipeline reads next.
        for entry in feed.entries { _ = (entry.title?.utf8.count, entry.content?.utf8.count, entry.link) }
    }
    // The HTTP charset path as well (a mislabelled document is the common case).
    _ = try? FeedParser.parse(bytes, url: nil, contentType: "application/rss+xml; charset=iso-8859-1")
    return 0
}
