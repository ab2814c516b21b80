import ClusterState
import ClusterWorker
import Foundation
import Logging
import StateStore
import TestSupport
import Testing

/// `ClusterPollState` against a real PostgreSQL server on 127.0.0.1 (skipped where PostgreSQL is
/// not installed, unless FEEDCORPUS_REQUIRE_POSTGRES=1, as in CI).
@Suite(.offTheCooperativePool, .serialized, .enabled(if: TestPostgres.available, "PostgreSQL's server programs are not installed (apt-get install postgresql)"))
final class ClusterPollStateTests {
    let server: TestPostgres

    init() throws {
        server = try TestPostgres()
    }

    deinit { server.stop() }

    func withDatabase<T: Sendable>(_ body: (ClusterDatabase) async throws -> T) async throws -> T {
        try await ClusterDatabase.withDatabase(url: try #require(ClusterDatabaseURL(server.url)), logger: Logger(label: "test"), maxConnections: 4) { database in
            try await database.register([ClusterFeed(url: "https://a.example/feed", name: "a", host: "a.example")])
            return try await body(database)
        }
    }

    @Test func aPollsValidatorsAndScheduleAreKeptForTheNextWorker() async throws {
        try await withDatabase { database in
            let lease = try #require(try await database.claim(worker: "w1", limit: 1, perHost: 1, lease: .seconds(60)).first)
            let first = ClusterPollState(database: database, lease: lease)
            let (id, http, schedule) = try await first.prepare(url: "https://a.example/feed", name: "a")
            #expect(id == lease.feedID && http == FeedHTTPState() && schedule == FeedSchedule())
            let next = Date(timeIntervalSinceNow: 1800).addingTimeInterval(-Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 1))
            let recorded = FeedSchedule(nextPollAt: next, freshnessLifetime: 600, pollInterval: 1800)
            try await first.record(feedID: id, result: .ok, error: nil, http: FeedHTTPState(etag: "\"v1\"", lastModified: "Tue, 01 Dec 2026 10:00:00 GMT"),
                                   schedule: recorded)
            // The lease is over and the feed is not due: nobody gets it now.
            #expect(try await database.claim(worker: "w2", limit: 1, perHost: 1, lease: .seconds(60)).isEmpty)
            let overview = try await database.overview()
            #expect(overview.feeds.first?.lastResult == "ok" && overview.feeds.first?.leaseOwner == nil)
            #expect(abs((overview.feeds.first?.nextPollAt ?? .distantPast).timeIntervalSince(next)) < 0.001)
            // Due again (as when its time comes): another worker polls with what the first kept.
            _ = try server.psql("UPDATE feeds SET next_poll_at = now()")
            let again = try #require(try await database.claim(worker: "w2", limit: 1, perHost: 1, lease: .seconds(60)).first)
            let (_, keptHTTP, keptSchedule) = try await ClusterPollState(database: database, lease: again).prepare(url: "https://a.example/feed", name: "a")
            #expect(keptHTTP.etag == "\"v1\"" && keptHTTP.lastModified == "Tue, 01 Dec 2026 10:00:00 GMT")
            #expect(keptSchedule.pollInterval == 1800 && keptSchedule.freshnessLifetime == 600)
            #expect(abs((keptSchedule.nextPollAt ?? .distantPast).timeIntervalSince(next)) < 0.001)
            // An error keeps the last validators (nil http) and disables the feed when the schedule says so.
            var gone = keptSchedule
            gone.disabledReason = "HTTP 410 Gone"
            try await ClusterPollState(database: database, lease: again).record(feedID: again.feedID, result: .error, error: "gone", http: nil, schedule: gone)
            let after = try await database.overview()
            #expect(after.feeds.first?.disabledReason == "HTTP 410 Gone" && after.feeds.first?.lastError == "gone")
            #expect(try server.psql("SELECT http_state LIKE '%v1%' FROM feeds") == "t\n")
        }
    }

    @Test func aWorkerThatLostItsLeaseRecordsNothing() async throws {
        try await withDatabase { database in
            let stale = try #require(try await database.claim(worker: "w1", limit: 1, perHost: 1, lease: .seconds(60)).first)
            // The lease runs out (as if the worker stalled) and another worker claims the feed.
            _ = try server.psql("UPDATE feeds SET lease_expires = now() - interval '1 second'")
            let current = try #require(try await database.claim(worker: "w2", limit: 1, perHost: 1, lease: .seconds(60)).first)
            #expect(current.fence == stale.fence + 1)
            await #expect {
                try await ClusterPollState(database: database, lease: stale).record(
                    feedID: stale.feedID, result: .ok, error: nil, http: FeedHTTPState(etag: "\"stale\""), schedule: FeedSchedule(pollInterval: 60))
            } throws: { error in
                (error as? ClusterStateError)?.kind == .leaseLost
            }
            #expect(try server.psql("SELECT coalesce(http_state, 'none'), lease_owner FROM feeds") == "none|w2\n")
            // And a poll state for another feed than the lease's is refused.
            await #expect(throws: ClusterStateError.self) {
                _ = try await ClusterPollState(database: database, lease: current).prepare(url: "https://b.example/feed", name: "b")
            }
        }
    }

    @Test func newEntriesAndStoredURLsComeFromTheSharedState() async throws {
        try await withDatabase { database in
            let lease = try #require(try await database.claim(worker: "w1", limit: 1, perHost: 1, lease: .seconds(60)).first)
            try await database.commitPoll(ClusterPollCommit(
                stories: [ClusterStory(entryKey: "k1", sha256: "s1", url: "https://a.example/1", entryID: nil, record: "{}", text: "One\nText.\n")],
                emptyEntryKeys: ["k2"], nextPollAt: Date(), httpState: #"{"etag":"\"v2\""}"#, schedule: #"{"consecutiveErrors":0,"pendingRedirectCount":0,"pollInterval":900,"windowOverflows":0}"#),
                under: lease)
            let again = try #require(try await database.claim(worker: "w1", limit: 1, perHost: 1, lease: .seconds(60)).first)
            let state = ClusterPollState(database: database, lease: again)
            // A story-bearing commit keeps the poll's validators and schedule for the next poll too.
            let (_, http, schedule) = try await state.prepare(url: "https://a.example/feed", name: "a")
            #expect(http.etag == "\"v2\"" && schedule.pollInterval == 900)
            #expect(try await state.unseenKeys(feedID: again.feedID, keys: ["k1", "k2", "k3"]) == ["k3"])
            #expect(try await state.storedURLs(among: ["https://a.example/1", "https://a.example/2"]) == ["https://a.example/1"])
            try await state.holdHost("a.example", until: Date(timeIntervalSinceNow: 120))
            #expect(try await database.overview().heldHosts.keys.contains("a.example"))
        }
    }
}
