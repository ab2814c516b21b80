import FeedModel
import Foundation

/// A dropped duplicate, traceable to the story it duplicates.
public struct DuplicateRecord: Sendable, Equatable {
    public var feedURL: String
    public var entryKey: String
    public var url: String?
    public var title: String?
    public var reason: DuplicateReason
    public var duplicateOf: String
    /// Hamming distance of the SimHashes, for `nearText`.
    public var distance: Int?
    /// The verified similarity (estimated shingle Jaccard or containment), for `nearText`.
    public var similarity: Double?
    public var detectedAt: Date
    /// The headline of the stored story it duplicates (filled in when read from the state).
    public var duplicateOfTitle: String?

    public init(feedURL: String, entryKey: String, url: String?, title: String?, reason: DuplicateReason, duplicateOf: String,
                distance: Int? = nil, similarity: Double? = nil, detectedAt: Date, duplicateOfTitle: String? = nil) {
        self.duplicateOfTitle = duplicateOfTitle
        self.distance = distance
        self.similarity = similarity
        self.feedURL = feedURL
        self.entryKey = entryKey
        self.url = url
        self.title = title
        self.reason = reason
        self.duplicateOf = duplicateOf
        self.detectedAt = detectedAt
    }
}
