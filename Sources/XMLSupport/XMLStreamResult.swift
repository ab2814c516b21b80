import Foundation

/// The outcome of a streaming parse.
public struct XMLStreamResult: Sendable {
    /// False when libxml2 had to recover from an error somewhere in the document.
    public var wellFormed: Bool
    /// The first error libxml2 reported, if any.
    public var firstIssue: XMLIssue?
    /// True when the parse stopped early (a handler or a safety limit stopped it).
    public var stoppedEarly: Bool
}
