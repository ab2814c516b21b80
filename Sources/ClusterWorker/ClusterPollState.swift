import ClusterState
import Foundation
import Pipeline
import StateStore

/// Cluster mode's `PollState` for one leased feed: the polling code (fetch, parse, new entries,
/// article pages) reads and records the feed in the shared state, under the worker's lease.
/// Recording a poll ends the lease (a lost lease discards the poll: `leaseLost`).
public struct ClusterPollState: PollState {
    public let database: ClusterDatabase
    public let lease: FeedLease

    public init(database: ClusterDatabase, lease: FeedLease) {
        self.database = database
        self.lease = lease
    }

    /// The leased feed's id, last validators and schedule (`url` and `name` are the lease's feed:
    /// a worker registers feeds before claiming them).
    public func prepare(url: String, name: String) async throws -> (Int64, FeedHTTPState, FeedSchedule) {
        guard url == lease.url else {
            throw ClusterStateError(.query, operation: "poll \(url)", message: "the lease is for \(lease.url), not this feed")
        }
        let stored = try await database.pollState(feedID: lease.feedID)
        let decoder = JSONDecoder()
        // A state written by another version that cannot be read starts the feed afresh (it is
        // polled unconditionally once), rather than stopping it.
        let http = stored.http.flatMap { try? decoder.decode(FeedHTTPState.self, from: Data($0.utf8)) } ?? FeedHTTPState()
        let schedule = stored.schedule.flatMap { try? decoder.decode(FeedSchedule.self, from: Data($0.utf8)) } ?? FeedSchedule()
        return (lease.feedID, http, schedule)
    }

    /// Ends the lease with the poll's result; the feed is due again at its schedule's next poll
    /// (now when the schedule has none).
    public func record(feedID: Int64, result: PollResult, error: String?, http: FeedHTTPState?, schedule: FeedSchedule) async throws {
        let httpJSON = try http.map(Self.json)
        let scheduleJSON = try Self.json(schedule)
        try await database.finishPoll(lease, nextPollAt: schedule.nextPollAt ?? Date(), result: result.rawValue, error: error,
                                      http: httpJSON, schedule: scheduleJSON, disabledReason: schedule.disabledReason)
    }

    /// Holds the host for every worker for as long as `until` is from now on this machine's
    /// clock, counted on the database's.
    public func holdHost(_ host: String, until: Date) async throws {
        try await database.hold(host: host, forSeconds: until.timeIntervalSinceNow)
    }

    public func unseenKeys(feedID: Int64, keys: [String]) async throws -> Set<String> {
        let seen = try await database.seenEntryKeys(feedID: feedID, among: keys)
        return Set(keys.filter { !seen.contains($0) })
    }

    public func storedURLs(among urls: [String]) async throws -> Set<String> {
        try await database.storedURLs(among: urls)
    }

    /// A feed's validators or schedule as the state keeps them (JSON, keys sorted).
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
