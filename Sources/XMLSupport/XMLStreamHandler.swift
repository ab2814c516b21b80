import Foundation

/// Receives the events of `XMLStreamParser` in document order.
///
/// The parser never builds a tree and never expands entities declared in the document: undeclared
/// or DTD-declared entity references arrive through `entityReference(named:)`.
public protocol XMLStreamHandler: AnyObject {
    func startElement(_ name: XMLName, attributes: [XMLAttribute])
    func endElement(_ name: XMLName)
    /// Character data (text and CDATA), in chunks: one text node may arrive in several calls.
    func characters(_ bytes: UnsafeBufferPointer<UInt8>)
    /// A reference `&name;` to an entity that is not one of XML's five predefined ones.
    func entityReference(named name: String)
    /// The default namespace the root element declares (`xmlns="…"`), before its start.
    func rootDefaultNamespace(_ uri: String)
}

extension XMLStreamHandler {
    public func rootDefaultNamespace(_ uri: String) {}
}
