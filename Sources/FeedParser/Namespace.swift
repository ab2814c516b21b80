import Foundation

/// The namespaces feeds use, resolved from URI or, when a document forgot to declare it, from
/// the conventional prefix.
enum Namespace: Equatable {
    case none, rss090, rss10, rdf, atom10, atom03, content, dc, media, sy, xml, itunes, xhtml, other

    init(uri raw: String?, prefix: String?) {
        // A URI written with spaces around it is still that namespace.
        if let uri = raw.map(\.trimmingWhitespace) {
            switch uri {
            case "http://my.netscape.com/rdf/simple/0.9/": self = .rss090
            case "http://purl.org/rss/1.0/": self = .rss10
            case "http://www.w3.org/1999/02/22-rdf-syntax-ns#": self = .rdf
            case "http://www.w3.org/2005/Atom": self = .atom10
            case "http://purl.org/atom/ns#": self = .atom03
            // RSS 2.0 and 0.91 with a default namespace some publishers declare: core RSS.
            case "http://backend.userland.com/rss", "http://backend.userland.com/rss2",
                 "http://blogs.law.harvard.edu/tech/rss", "http://purl.org/rss/1.0/modules/rss091#":
                self = .none
            // Pre-release names of Atom 0.3 ("Echo", "Pie") that early feeds still carry.
            case "http://example.com/necho", "http://purl.org/echo/", "uri/of/echo/namespace#", "http://purl.org/pie/":
                self = .atom03
            case let other where other.hasPrefix("http://purl.org/atom/ns#draft") || other.hasPrefix("http://example.com/newformat#") || other.hasPrefix("http://www.w3.org/2005/Atom"):
                self = .atom10
            case "http://purl.org/rss/1.0/modules/content/": self = .content
            case "http://purl.org/dc/elements/1.1/", "http://purl.org/dc/terms/": self = .dc
            case "http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss": self = .media
            case "http://purl.org/rss/1.0/modules/syndication/": self = .sy
            case "http://www.w3.org/XML/1998/namespace": self = .xml
            case "http://www.itunes.com/dtds/podcast-1.0.dtd", "https://www.itunes.com/dtds/podcast-1.0.dtd": self = .itunes
            case "http://www.w3.org/1999/xhtml": self = .xhtml
            default: self = .other
            }
            return
        }
        switch prefix {
        case nil: self = .none
        case "content": self = .content
        case "dc", "dcterms": self = .dc
        case "atom": self = .atom10
        case "media": self = .media
        case "sy": self = .sy
        case "itunes": self = .itunes
        case "xhtml": self = .xhtml
        case "rdf": self = .rdf
        case "xml": self = .xml
        default: self = .other
        }
    }
}
