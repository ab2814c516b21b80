import FeedModel
import Foundation

/// One story a poll stores: its manifest record (the file is written), the entry it came from,
/// and what the dedupe stage needs of it later.
public struct StoryCommit: Sendable {
    public var entryKey: String
    public var record: StoryRecord
    public var simhash: UInt64
    /// Serialised MinHash signatures (`MinHashSignature.bytes`) of the whole text and its lead.
    public var minhash: [UInt8]
    public var leadMinhash: [UInt8]
    /// The terms its event was decided on (`EventTerms.serialized`).
    public var eventTerms: String
    /// The stored story it supersedes (keep-longer near duplicates).
    public var supersedes: Int64?

    public init(entryKey: String, record: StoryRecord, simhash: UInt64 = 0, minhash: [UInt8] = [], leadMinhash: [UInt8] = [],
                eventTerms: String = "", supersedes: Int64? = nil) {
        self.entryKey = entryKey
        self.record = record
        self.simhash = simhash
        self.minhash = minhash
        self.leadMinhash = leadMinhash
        self.eventTerms = eventTerms
        self.supersedes = supersedes
    }
}
