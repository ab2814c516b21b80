import Foundation

/// A namespaced element or attribute name as reported by the streaming parser.
public struct XMLName: Sendable, Equatable {
    // Constants, so that a name cannot drift from its interned index.
    public let localName: String
    public let namespaceURI: String?
    public let prefix: String?
    /// A small number (0, 1, 2, ...) the parser gives each distinct name of one document, so a
    /// handler can keep what it works out about a name in an array instead of comparing strings
    /// per element; -1 for names made elsewhere (and past the parser's table size).
    public let internedIndex: Int

    public init(localName: String, namespaceURI: String? = nil, prefix: String? = nil) {
        self.init(localName: localName, namespaceURI: namespaceURI, prefix: prefix, internedIndex: -1)
    }

    init(localName: String, namespaceURI: String?, prefix: String?, internedIndex: Int) {
        self.localName = localName
        self.namespaceURI = namespaceURI
        self.prefix = prefix
        self.internedIndex = internedIndex
    }

    /// Names are equal when they are written the same; the interned index does not count.
    public static func == (lhs: XMLName, rhs: XMLName) -> Bool {
        lhs.localName == rhs.localName && lhs.namespaceURI == rhs.namespaceURI && lhs.prefix == rhs.prefix
    }

    /// `prefix:local` as written in the document (or `local` without a prefix).
    public var qualified: String { prefix.map { "\($0):\(localName)" } ?? localName }
}
