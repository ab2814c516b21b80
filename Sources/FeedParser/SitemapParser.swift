import DatesAndCharsets
import Foundation
import XMLSupport

/// One `<url>` of a sitemap or one `<sitemap>` of a sitemap index.
public struct SitemapEntry: Sendable, Equatable, Codable {
    /// The absolute URL of the page (or of the child sitemap).
    public var url: String
    /// `lastmod`.
    public var lastModified: Date?
    /// `news:publication_date` (Google News sitemaps).
    public var published: Date?
    /// `news:title`.
    public var title: String?

    public init(url: String, lastModified: Date? = nil, published: Date? = nil, title: String? = nil) {
        self.url = url
        self.lastModified = lastModified
        self.published = published
        self.title = title
    }

    /// The date that places the page in time: its publication date, else its last change.
    public var date: Date? { published ?? lastModified }
}

/// A parsed sitemap (sitemaps.org 0.9): a list of pages, or an index of further sitemaps.
public struct SitemapDocument: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case urlset
        case index
    }

    public var kind: Kind
    public var entries: [SitemapEntry]
    /// Entries past the parser's limit: counted, not kept.
    public var entriesOmitted = 0
}

/// Why a document is not a sitemap.
public enum SitemapError: Error, Sendable, Equatable, CustomStringConvertible {
    case notASitemap(rootElement: String)
    case unreadable(String)

    public var description: String {
        switch self {
        case let .notASitemap(root):
            "not a sitemap: the root element is <\(root)>, expected <urlset> or <sitemapindex> (sitemaps.org 0.9)"
        case let .unreadable(reason):
            "not a readable sitemap: \(reason)"
        }
    }
}

/// Reads sitemaps and sitemap indexes through the same hardened libxml2 stream parser as feeds.
/// Element names are matched by local name (publishers get the namespace wrong often enough);
/// `loc` is resolved against the sitemap's own URL, and an entry without a `loc` is skipped.
public enum SitemapParser {
    /// Parses `bytes` (already decompressed), read from `url`, keeping at most `maxEntries` entries.
    public static func parse(_ bytes: [UInt8], url: String?, maxEntries: Int = 50_000) throws(SitemapError) -> SitemapDocument {
        let handler = Handler(url: url, limit: maxEntries)
        do {
            _ = try XMLStreamParser.parse(bytes, url: url, handler: handler)
        } catch {
            throw .unreadable(error.description)
        }
        guard let kind = handler.kind else {
            throw .notASitemap(rootElement: handler.root ?? "(none)")
        }
        return SitemapDocument(kind: kind, entries: handler.entries, entriesOmitted: handler.omitted)
    }

    private final class Handler: XMLStreamHandler {
        let url: String?
        let limit: Int
        var root: String?
        var kind: SitemapDocument.Kind?
        var entries: [SitemapEntry] = []
        var omitted = 0
        private var current: (loc: String?, lastmod: String?, published: String?, title: String?)?
        private var field: String?
        private var text: [UInt8] = []
        /// Element depth, and the depth of the open <url>/<sitemap>: its own loc and lastmod
        /// are its children (an image's or a video's <loc> sits deeper).
        private var depth = 0
        private var itemDepth = 0

        init(url: String?, limit: Int) {
            self.url = url
            self.limit = limit
        }

        func startElement(_ name: XMLName, attributes: [XMLAttribute]) {
            depth += 1
            let local = name.localName
            if root == nil {
                root = name.qualified
                switch local {
                case "urlset": kind = .urlset
                case "sitemapindex": kind = .index
                default: break
                }
                return
            }
            guard let kind else { return }
            if current == nil {
                if (kind == .urlset && local == "url") || (kind == .index && local == "sitemap") {
                    current = (nil, nil, nil, nil)
                    itemDepth = depth
                }
                return
            }
            switch local {
            case "loc", "lastmod", "publication_date", "title":
                if (local == "loc" || local == "lastmod") && depth != itemDepth + 1 { return }
                // news:title and news:publication_date sit in <news:news>; a title elsewhere (an
                // image's) is not the page's.
                if (local == "title" || local == "publication_date") && name.namespaceURI?.contains("sitemap-news") != true { return }
                field = local
                text.removeAll(keepingCapacity: true)
            default:
                break
            }
        }

        func endElement(_ name: XMLName) {
            defer { depth -= 1 }
            let local = name.localName
            if let field, field == local {
                let value = String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                switch field {
                case "loc": current?.loc = value
                case "lastmod": current?.lastmod = value
                case "publication_date": current?.published = value
                default: current?.title = value
                }
                self.field = nil
                return
            }
            guard let item = current, depth == itemDepth, local == "url" || local == "sitemap" else { return }
            current = nil
            guard let loc = item.loc, !loc.isEmpty, let absolute = URLResolver.resolve(loc, against: url) else { return }
            guard entries.count < limit else {
                omitted += 1
                return
            }
            entries.append(SitemapEntry(url: absolute, lastModified: item.lastmod.flatMap(FeedDate.parse),
                                        published: item.published.flatMap(FeedDate.parse),
                                        title: item.title.flatMap { $0.isEmpty ? nil : $0 }))
        }

        func characters(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard field != nil, text.count < 8192 else { return }
            text.append(contentsOf: bytes)
        }

        func entityReference(named name: String) {}
    }
}
