import Foundation

/// HTTP validators and the last body hash of a feed, for conditional requests.
public struct FeedHTTPState: Sendable, Equatable, Codable {
    public var etag: String?
    public var lastModified: String?
    public var bodySHA256: String?

    public init(etag: String? = nil, lastModified: String? = nil, bodySHA256: String? = nil) {
        self.etag = etag
        self.lastModified = lastModified
        self.bodySHA256 = bodySHA256
    }
}
