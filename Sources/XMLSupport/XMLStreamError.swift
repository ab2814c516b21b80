import Foundation

/// Why a document could not be read at all.
public enum XMLStreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The document declares an entity that could expand (it refers to other entities, holds
    /// markup, or is long): how billion-laughs and quadratic-blowup attacks start.
    case unsafeEntity(name: String, line: Int, reason: String)
    /// Declared entities were referenced so often that their expansion passed the budget.
    case entityExpansionLimit(bytes: Int)
    /// libxml2 could not even start (empty input, allocation failure).
    case cannotStart(String)
    /// A start tag carries more attributes than any feed needs: libxml2's time grows with the
    /// square of that number, so such a document would stall the parser for minutes.
    case tooManyAttributes(line: Int, limit: Int)

    public var description: String {
        switch self {
        case let .unsafeEntity(name, line, reason):
            return "line \(line): the document declares the entity '\(name)', which \(reason); such declarations are refused because they are how entity-expansion attacks work"
        case let .entityExpansionLimit(bytes):
            return "declared entities expand to more than \(bytes) bytes; the document is refused as an entity-expansion attack"
        case let .cannotStart(reason):
            return "cannot start the XML parser: \(reason)"
        case let .tooManyAttributes(line, limit):
            return "line \(line): a start tag with more than \(limit) attributes (no feed needs that many, and libxml2's time grows with their square)"
        }
    }
}
