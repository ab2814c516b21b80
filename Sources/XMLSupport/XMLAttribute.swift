import Foundation

/// An attribute of a start tag; entity references other than the XML predefined ones are left
/// as written.
public struct XMLAttribute: Sendable, Equatable {
    public var name: XMLName
    public var value: String
}
