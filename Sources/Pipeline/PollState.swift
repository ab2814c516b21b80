import FeedModel
import Foundation
import StateStore

/// What polling a feed needs of the state, apart from deciding and storing its stories: the
/// feed's id, validators and schedule; recording a poll that stores nothing; holding a host that
/// asked to wait; which entries are new; which article URLs are stored stories. The single
/// machine's `Ingestor` (SQLite) is one; cluster mode's shared state is to be the other, so that
/// fetching, parsing and extraction are the same code whichever state a feed is polled into.
public protocol PollState: Sendable {
    /// Registers the feed (if new) and returns its id, last validators and schedule.
    func prepare(url: String, name: String) async throws -> (Int64, FeedHTTPState, FeedSchedule)
    /// Records a poll that stored nothing (a failure, or nothing new to parse).
    func record(feedID: Int64, result: PollResult, error: String?, http: FeedHTTPState?, schedule: FeedSchedule) async throws
    /// Every process polling this state leaves `host` alone until `until`.
    func holdHost(_ host: String, until: Date) async throws
    /// The keys among `keys` that the feed has not seen before.
    func unseenKeys(feedID: Int64, keys: [String]) async throws -> Set<String>
    /// The canonical URLs among `urls` that are stored stories' (their pages are not fetched).
    func storedURLs(among urls: [String]) async throws -> Set<String>
}

extension Ingestor: PollState {}
