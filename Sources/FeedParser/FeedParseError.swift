import Foundation

/// Why a document could not be read as a feed at all. A document that is merely malformed is
/// not an error: it is parsed in recovery mode and flagged `bozo`.
public enum FeedParseError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyDocument
    /// The root element is not one of a feed format's (an HTML page, a sitemap, ...).
    case notAFeed(rootElement: String)
    /// Not XML, and not JSON Feed either.
    case notXML(firstIssue: String)
    /// Starts like JSON (a JSON Feed) but is not valid JSON.
    case invalidJSON(reason: String)
    /// The XML reader refused the document (entity declarations and the like).
    case refused(String)

    public var description: String {
        switch self {
        case .emptyDocument:
            return "the document is empty"
        case let .notAFeed(root):
            let hint = root.lowercased() == "html"
                ? " (this is a web page: find the page's RSS or Atom link and configure that URL instead)" : ""
            return "the root element is <\(root)>, not a feed (rss, rdf:RDF or feed)\(hint)"
        case let .notXML(issue):
            return "the document is not XML: \(issue)"
        case let .invalidJSON(reason):
            return "the document starts with '{' (a JSON Feed) but is not valid JSON: \(reason)"
        case let .refused(reason):
            return "the document was refused: \(reason)"
        }
    }
}
