import Foundation

/// A problem libxml2 reported while reading a document, with its position.
public struct XMLIssue: Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var column: Int

    public var description: String { "line \(line), column \(column): \(message)" }
}
