import Foundation

/// A failure of the cluster state (PostgreSQL): which operation, on which database, and why.
public struct ClusterStateError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The `state:` URL is not a usable `postgres://` URL.
        case badURL
        /// The server could not be reached or refused us.
        case connection
        /// A query failed.
        case query
        /// The worker's lease on a feed was lost (expired, or another worker holds it now): the
        /// work done under it is rolled back and discarded.
        case leaseLost
    }

    public var kind: Kind
    public var operation: String
    public var message: String

    public init(_ kind: Kind, operation: String, message: String) {
        self.kind = kind
        self.operation = operation
        self.message = message
    }

    public var description: String { "cluster state: \(operation): \(message)" }
}
