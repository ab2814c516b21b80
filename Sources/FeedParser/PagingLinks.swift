import FeedModel

extension ParsedFeed {
    /// Keeps a feed-level link that leads to older entries (RFC 5005): the first `prev-archive`
    /// and the first `next` (`previous` of a paged feed points to newer pages and is not kept).
    mutating func notePagingLink(_ link: FeedLink) {
        switch link.rel?.lowercased() ?? "alternate" {
        case "prev-archive", "http://www.iana.org/assignments/relation/prev-archive":
            if previousArchive == nil { previousArchive = link.href }
        case "next", "http://www.iana.org/assignments/relation/next":
            if nextPage == nil { nextPage = link.href }
        default:
            break
        }
    }
}
