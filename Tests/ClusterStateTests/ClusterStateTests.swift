@testable import ClusterState
import Fetcher
import Foundation
import Logging
import PostgresNIO
import TestSupport
import Testing

private let log = Logger(label: "cluster-test")

/// A poll's write is a statement prepared once per connection: that needs its text to be the
/// same for every poll, whatever it holds (its values travel as bound arrays).
@Suite struct PollWriteStatementTests {
    @Test func everyPollsWriteHasThePreparedText() {
        let story = ClusterStory(entryKey: "e", sha256: "s", url: nil, entryID: "urn:x", record: "{}", text: "Text.\n")
        let polls = [
            ClusterPollCommit(nextPollAt: Date()),
            ClusterPollCommit(stories: [story, story], duplicates: [
                ClusterDuplicate(entryKey: "d", url: nil, title: "T", reason: "same_text", duplicateOfSHA256: "s", distance: 3, similarity: 0.9),
            ], emptyEntryKeys: ["x"], nextPollAt: Date(), result: "error", httpState: "{}", schedule: "{}", unusedBodyIDs: [7]),
        ]
        for poll in polls {
            let query = ClusterDatabase.writeQuery(poll, feedID: 42)
            #expect(query.sql == PollWriteStatement.sql)
            #expect(query.binds.count == ClusterDatabase.writeQuery(polls[0], feedID: 1).binds.count)
        }
    }
}

@Suite struct ClusterDatabaseURLTests {
    @Test func postgresURLsSelectClusterMode() throws {
        let url = try #require(ClusterDatabaseURL("postgres://corpus:s%40cret@db.internal:6432/news"))
        #expect(url.host == "db.internal" && url.port == 6432 && url.user == "corpus" && url.password == "s@cret" && url.database == "news")
        #expect(url.description == "postgres://corpus@db.internal:6432/news")  // no password in messages
        #expect(ClusterDatabaseURL("postgresql://u@h/d")?.port == 5432)
        #expect(ClusterDatabaseURL("postgres://h/d") == nil)  // no user
        #expect(ClusterDatabaseURL("postgres://u@h/") == nil)  // no database
        #expect(ClusterDatabaseURL("state/feedcorpus.sqlite") == nil)
        #expect(ClusterDatabaseURL.isCluster("POSTGRES://u@h/d"))
        #expect(!ClusterDatabaseURL.isCluster("feedcorpus.sqlite"))
    }
}

/// Leases, host slots and the commit lock against a real PostgreSQL server on 127.0.0.1 (skipped
/// where PostgreSQL is not installed, unless FEEDCORPUS_REQUIRE_POSTGRES=1, as in CI).
@Suite(.offTheCooperativePool, .serialized, .enabled(if: TestPostgres.available, "PostgreSQL's server programs are not installed (apt-get install postgresql)"))
final class ClusterStateTests {
    let server: TestPostgres

    init() throws {
        server = try TestPostgres()
    }

    deinit { server.stop() }

    /// Runs `body` with a migrated database whose pool runs for the body's duration.
    func withDatabase<T: Sendable>(connections: Int = 8, _ body: (ClusterDatabase) async throws -> T) async throws -> T {
        try await ClusterDatabase.withDatabase(url: try #require(ClusterDatabaseURL(server.url)), logger: Logger(label: "test"), maxConnections: connections) { try await body($0) }
    }

    func feeds(_ count: Int, hosts: Int) -> [ClusterFeed] {
        (0..<count).map { ClusterFeed(url: "https://h\($0 % hosts).example/feed/\($0)", name: "feed \($0)", host: "h\($0 % hosts).example") }
    }

    @Test func concurrentWorkersNeverClaimOneFeedTwice() async throws {
        let claimed = try await withDatabase { database in
            try await database.migrate()  // A second worker starting: idempotent.
            try await database.register(feeds(200, hosts: 50))
            return try await withThrowingTaskGroup(of: [FeedLease].self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        var mine: [FeedLease] = []
                        while true {
                            let leases = try await database.claim(worker: "w\(worker)", limit: 7, perHost: 10, lease: .seconds(60))
                            if leases.isEmpty { return mine }
                            mine += leases
                        }
                    }
                }
                var all: [FeedLease] = []
                for try await leases in group { all += leases }
                return all
            }
        }
        #expect(claimed.count == 200)
        #expect(Set(claimed.map(\.feedID)).count == 200)
        #expect(claimed.allSatisfy { $0.fence == 1 })
        #expect(Set(claimed.map(\.worker)).count > 1)
    }

    @Test func noHostGetsMoreLeasesThanItsLimit() async throws {
        try await withDatabase { database in
            try await database.register(feeds(12, hosts: 1) + [ClusterFeed(url: "https://b.example/1", name: "b1", host: "b.example")])
            let leases = try await withThrowingTaskGroup(of: [FeedLease].self) { group in
                for worker in 0..<4 {
                    group.addTask { try await database.claim(worker: "w\(worker)", limit: 10, perHost: 2, lease: .seconds(60)) }
                }
                var all: [FeedLease] = []
                for try await leases in group { all += leases }
                return all
            }
            #expect(leases.filter { $0.host == "h0.example" }.count == 2)
            #expect(leases.filter { $0.host == "b.example" }.count == 1)
            // Finishing one frees one place on its host.
            let done = try #require(leases.first { $0.host == "h0.example" })
            try await database.finish(done, nextPollAt: Date().addingTimeInterval(3600), result: "ok") { _ in }
            let next = try await database.claim(worker: "w9", limit: 10, perHost: 2, lease: .seconds(60))
            #expect(next.map(\.host) == ["h0.example"])
        }
    }

    @Test func aDeadWorkersFeedsComeBackAfterTheLeaseAndItsCommitIsRolledBack() async throws {
        try await withDatabase { database in
            try await database.register(feeds(3, hosts: 3))
            _ = try await database.withCommitLock { connection in
                try await connection.query("CREATE TABLE results(feed BIGINT, worker TEXT)", logger: log)
            }
            let started = ContinuousClock.now
            // A 3 s lease: on a loaded machine the next claim can come more than a second later.
            let dead = try await database.claim(worker: "dead", limit: 10, perHost: 5, lease: .seconds(3))
            #expect(dead.count == 3)
            #expect(try await database.claim(worker: "alive", limit: 10, perHost: 5, lease: .seconds(60)).isEmpty)
            // The live worker keeps asking, as its loop does; the feeds come back once the lease
            // has expired by the database's clock.
            var taken: [FeedLease] = []
            while taken.isEmpty, ContinuousClock.now - started < .seconds(12) {
                taken = try await database.claim(worker: "alive", limit: 10, perHost: 5, lease: .seconds(60))
                if taken.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            }
            let back = ContinuousClock.now - started
            #expect(taken.count == 3)
            #expect(back >= .milliseconds(2_900) && back <= .seconds(8), "came back after \(back)")
            #expect(taken.allSatisfy { $0.fence == 2 })
            // The dead worker wakes up: its renewal and its commit are refused, its rows are not there.
            let stale = dead[0]
            await #expect(throws: ClusterStateError.self) { _ = try await database.renew(stale, for: .seconds(60)) }
            do {
                try await database.finish(stale, nextPollAt: Date(), result: "ok") { connection in
                    try await connection.query("INSERT INTO results VALUES(\(stale.feedID), 'dead')", logger: log)
                }
                Issue.record("a commit under a lost lease was accepted")
            } catch let error as ClusterStateError {
                #expect(error.kind == .leaseLost)
            }
            let mine = try #require(taken.first { $0.feedID == stale.feedID })
            try await database.finish(mine, nextPollAt: Date().addingTimeInterval(600), result: "ok") { connection in
                try await connection.query("INSERT INTO results VALUES(\(mine.feedID), 'alive')", logger: log)
            }
            #expect(try server.psql("SELECT worker FROM results") == "alive\n")
            #expect(try server.psql("SELECT count(*) FROM feeds WHERE lease_owner IS NULL AND next_poll_at > now()") == "1\n")
        }
    }

    @Test func requestSlotsOfAHostAreSpacedAcrossWorkersAndHoldsStopThem() async throws {
        try await withDatabase(connections: 8) { database in
            let delay = 0.05
            let starts = try await withThrowingTaskGroup(of: [Date].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var mine: [Date] = []
                        for _ in 0..<10 {
                            guard case let .wait(seconds, slot) = try await database.reserveSlot(host: "slow.example", delay: delay) else {
                                throw SupportError("an unheld host was held")
                            }
                            #expect(seconds >= 0 && seconds <= 2.5)
                            mine.append(slot)
                        }
                        return mine
                    }
                }
                var all: [Date] = []
                for try await mine in group { all += mine }
                return all.sorted()
            }
            #expect(starts.count == 40)
            // The slots the database handed out (its clock, microseconds): never closer than the delay.
            let gaps = zip(starts.dropFirst(), starts).map { $0.timeIntervalSince($1) }
            #expect(gaps.allSatisfy { $0 >= delay - 0.000_002 }, "closest \(gaps.min() ?? 0) s")
            let until = Date().addingTimeInterval(120)
            try await database.hold(host: "slow.example", until: until)
            guard case let .held(heldUntil) = try await database.reserveSlot(host: "slow.example", delay: delay) else {
                Issue.record("a held host got a slot")
                return
            }
            #expect(abs(heldUntil.timeIntervalSince(until)) < 0.01)
            guard case let .wait(seconds, _) = try await database.reserveSlot(host: "other.example", delay: delay) else {
                Issue.record("an unheld host was held")
                return
            }
            #expect(seconds == 0)
        }
    }

    @Test func theCommitLockLetsOneCommitAtATime() async throws {
        try await withDatabase { database in
            _ = try await database.withCommitLock { connection in
                try await connection.query("CREATE TABLE counter(n BIGINT NOT NULL)", logger: log)
                try await connection.query("INSERT INTO counter VALUES(0)", logger: log)
            }
            // Read, wait, write: without the lock the writers overwrite each other.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        for _ in 0..<5 {
                            _ = try await database.withCommitLock { connection in
                                var value: Int64 = 0
                                for try await n in try await connection.query("SELECT n FROM counter", logger: log).decode(Int64.self) { value = n }
                                try await Task.sleep(for: .milliseconds(5))
                                try await connection.query("UPDATE counter SET n = \(value + 1)", logger: log)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try server.psql("SELECT n FROM counter") == "20\n")
        }
    }

    /// A store step that waited for the commit lock reads, in the same call, the stories the
    /// holder committed meanwhile (the read takes its snapshot after the grant), and its hold is
    /// counted from the grant, not from the start of its wait.
    @Test func theLockedReadSeesTheStoriesCommittedWhileItWaited() async throws {
        try await withDatabase { database in
            try await database.register(feeds(2, hosts: 2))
            let leases = try await database.claim(worker: "w", limit: 2, perHost: 1, lease: .seconds(60))
            try #require(leases.count == 2)
            var fingerprinted = story(1)
            fingerprinted.fingerprint = ClusterFingerprint(simhash: 7, minhash: [1, 0, 0, 0], leadMinhash: [1, 0, 0, 0], title: "story 1",
                                                           event: "e1", eventTerms: "", eventAt: Date())
            let (holding, holdingSink) = AsyncStream.makeStream(of: Void.self)
            let (release, releaseSink) = AsyncStream.makeStream(of: Void.self)
            async let first = database.storePoll(under: leases[0]) { transaction in
                try await transaction.lockCommits()
                holdingSink.yield()
                for await _ in release { break }
                return ClusterPollCommit(stories: [fingerprinted], nextPollAt: Date())
            }
            for await _ in holding { break }
            async let second = database.storePoll(under: leases[1]) { transaction in
                let since = try await transaction.lockCommitsReadingCommitted(after: 0)
                #expect(since.map(\.keys.sha256) == ["sha-1"])
                #expect(since.first?.fingerprint.simhash == 7)
                return ClusterPollCommit(nextPollAt: Date())
            }
            // Let the first commit only once the second waits for the lock.
            while try server.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") != "1\n" {
                try await Task.sleep(for: .milliseconds(20))
            }
            try await Task.sleep(for: .milliseconds(300))  // a wait the second's hold must not count
            releaseSink.yield()
            let (committed, waited) = (try await first, try await second)
            #expect(committed.seqs.count == 1)
            #expect(try #require(waited.lockHeld) < .milliseconds(250))
        }
    }

    @Test func robotsTxtIsSharedForItsLifetime() async throws {
        try await withDatabase { database in
            #expect(try await database.cachedRobots(origin: "https://a.example", maxAge: 86_400) == nil)
            try await database.storeRobots(origin: "https://a.example", status: 200, body: "User-agent: *\nDisallow: /x\n")
            let cached = try #require(try await database.cachedRobots(origin: "https://a.example", maxAge: 86_400))
            #expect(cached.status == 200 && cached.body.contains("Disallow: /x"))
            _ = try server.psql("UPDATE robots SET fetched_at = now() - interval '2 days'")
            #expect(try await database.cachedRobots(origin: "https://a.example", maxAge: 86_400) == nil)
        }
    }

    @Test func twoWorkersClientsKeepTheHostDelayBetweenThemAndHonourAHold() async throws {
        let web = try TestHTTPServer()
        defer { web.stop() }
        try web.put("feed.xml", "<rss version=\"2.0\"><channel><title>t</title></channel></rss>")
        let delay = 0.2
        try await withDatabase { database in
            // Each worker's client has no delay of its own: the spacing is the database's.
            let settings = HTTPClientSettings(userAgent: "feedcorpus-test", hostDelay: 0, allowPrivateNetworks: true)
            let workers = (0..<2).map { _ in HTTPClient(settings: settings, gate: ClusterHostGate(database: database, delay: delay)) }
            defer { workers.forEach { $0.shutdown() } }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in workers {
                    for _ in 0..<4 {
                        group.addTask {
                            let response = try await client.fetch(FetchRequest(url: web.url("files/feed.xml")))
                            #expect(response.status == 200)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let starts = web.requests().map(\.time).sorted()
            #expect(starts.count == 8)
            // The slots are `delay` plus a 20 ms margin apart (by the database's clock, previous
            // test); when a request arrives also depends on how fast each worker hears of its slot
            // and wakes up, which the margin absorbs on a quiet machine and a loaded one (tests
            // running beside this one) may exceed by some tens of milliseconds.
            let gaps = zip(starts.dropFirst(), starts).map { $0 - $1 }
            #expect(gaps.allSatisfy { $0 >= delay * 0.6 }, "closest requests \(gaps.min() ?? 0) s apart")
            #expect((starts.last ?? 0) - (starts.first ?? 0) >= 7 * delay * 0.95)
            // A hold one worker learned stops the other worker's requests before they are sent.
            try await database.hold(host: "127.0.0.1", until: Date().addingTimeInterval(600))
            do {
                _ = try await workers[1].fetch(FetchRequest(url: web.url("files/feed.xml")))
                Issue.record("a request to a held host was sent")
            } catch let error as FetchError {
                guard case .hostBackoff = error.kind else {
                    Issue.record("unexpected error \(error)")
                    return
                }
            }
            #expect(web.requests().count == 8)
        }
    }

    @Test func copiedFeedsArriveExactlyAndALiveLeaseRenews() async throws {
        try await withDatabase { database in
            let odd = ClusterFeed(url: "https://a.example/feed?x=1\\2", name: "tab\there, newline\nthere, back\\slash é", host: "a.example")
            try await database.copyNewFeeds([odd] + feeds(999, hosts: 10))
            #expect(try server.psql("SELECT count(*) FROM feeds") == "1000\n")
            #expect(try server.psql("SELECT name = E'tab\\there, newline\\nthere, back\\\\slash é' AND url = E'https://a.example/feed?x=1\\\\2' FROM feeds WHERE host = 'a.example'") == "t\n")
            let lease = try #require(try await database.claim(worker: "w", limit: 1, perHost: 1, lease: .seconds(2)).first)
            let renewed = try await database.renew(lease, for: .seconds(600))
            #expect(renewed.fence == lease.fence)
            #expect(renewed.expires.timeIntervalSince(lease.expires) > 500)
            try await database.finish(renewed, nextPollAt: Date().addingTimeInterval(60), result: "ok") { _ in }
        }
    }

    func story(_ n: Int, sha: String? = nil, url: String? = nil, id: String? = nil) -> ClusterStory {
        ClusterStory(entryKey: "entry-\(n)", sha256: sha ?? "sha-\(n)", url: url ?? "https://a.example/\(n)", entryID: id,
                     record: "{\"title\":\"story \(n)\"}", text: "Story \(n)\n\nIts text.\n")
    }

    @Test func storiesCommitInOrderAndAUniqueKeyTakenFailsTheWholeCommit() async throws {
        try await withDatabase { database in
            try await database.register(feeds(2, hosts: 2))
            let leases = try await database.claim(worker: "w", limit: 2, perHost: 1, lease: .seconds(60))
            #expect(leases.count == 2)
            let first = try await database.commitPoll(ClusterPollCommit(stories: [story(1), story(2, id: "urn:x:2")], nextPollAt: Date()), under: leases[0])
            #expect(first == [1, 2])
            // Another worker's commit that repeats story 2's text, URL or global id is refused as a
            // whole: nothing of it is stored, and its lease is still held (the worker may retry
            // after catching up).
            for repeated in [story(3, sha: "sha-2"), story(3, url: "https://a.example/2"), story(3, id: "urn:x:2")] {
                do {
                    _ = try await database.commitPoll(ClusterPollCommit(stories: [story(4), repeated], nextPollAt: Date()), under: leases[1])
                    Issue.record("a repeated key was committed")
                } catch let error as ClusterStateError {
                    #expect(error.kind == .query)
                    #expect(error.message.contains("unique"), "\(error.message)")
                }
            }
            #expect(try server.psql("SELECT count(*) FROM stories") == "2\n")
            let second = try await database.commitPoll(ClusterPollCommit(stories: [story(4)], nextPollAt: Date()), under: leases[1])
            #expect(second.count == 1 && (second.first ?? 0) > 2)
            let all = try await database.stories(after: 0, limit: 10)
            #expect(all.map(\.record) == [story(1).record, story(2).record, story(4).record])
            #expect(try await database.stories(after: 2, limit: 10).map(\.seq) == second)
        }
    }

    @Test func textsArePrunedOnlyOnceEveryCopyHasThem() async throws {
        try await withDatabase { database in
            try await database.register(feeds(1, hosts: 1))
            let lease = try #require(try await database.claim(worker: "w", limit: 1, perHost: 1, lease: .seconds(60)).first)
            _ = try await database.commitPoll(ClusterPollCommit(stories: (1...5).map { story($0) }, nextPollAt: Date()), under: lease)
            #expect(try await database.pruneTexts() == 0)  // no copy registered: nothing is pruned
            #expect(try await database.registerCopy("a") == 0)
            #expect(try await database.registerCopy("b") == 0)
            try await database.advance(copy: "a", to: 5)
            try await database.advance(copy: "b", to: 2)
            try await database.advance(copy: "b", to: 1)  // never moves back
            #expect(try await database.registerCopy("b") == 2)
            #expect(try await database.pruneTexts() == 2)
            let texts = try await database.stories(after: 0, limit: 10).map(\.text)
            #expect(texts.map { $0 == nil } == [true, true, false, false, false])
        }
    }

    /// Texts staged before the commit lock: a story names its body and is read back with its
    /// text and shingles as if they were its own, the staged bodies no story uses are deleted with
    /// the commit, and pruning empties a body's text but keeps its shingles.
    @Test func stagedBodiesCarryTheTextsTheUnusedOnesGoAndPruningKeepsTheShingles() async throws {
        try await withDatabase { database in
            try await database.register(feeds(1, hosts: 1))
            let lease = try #require(try await database.claim(worker: "w", limit: 1, perHost: 1, lease: .seconds(60)).first)
            var stories = [story(1), story(2), story(3)]
            let stored = try await database.storePoll(under: lease) { transaction in
                let staged = try await transaction.stageBodies([("sha-1", stories[0].text, [3, 1 << 40]), ("sha-2", stories[1].text, nil),
                                                                ("sha-9", "Dropped\n\nA repeat.\n", [7])])
                let ids = Dictionary(staged.map { ($0.sha256, $0.id) }, uniquingKeysWith: { first, _ in first })
                stories[0].bodyID = ids["sha-1"]
                stories[0].shingles = [3, 1 << 40]
                stories[1].bodyID = ids["sha-2"]
                // The third story keeps its text in its own row.
                try await transaction.lockCommits()
                return ClusterPollCommit(stories: stories, nextPollAt: Date(), unusedBodyIDs: [try #require(ids["sha-9"])])
            }
            #expect(stored.seqs.count == 3 && stored.lockHeld != nil)
            #expect(try server.psql("SELECT string_agg(sha256, ',' ORDER BY id) FROM story_bodies") == "sha-1,sha-2\n")
            #expect(try server.psql("SELECT count(text) FROM stories") == "1\n")
            #expect(try await database.stories(after: 0, limit: 10).map(\.text) == stories.map(\.text))
            let comparables = try await database.withCommitLock { connection in
                try await ClusterStoreTransaction(connection: connection, logger: Logger(label: "test")).comparables(stored.seqs)
            }.0
            #expect(comparables[stored.seqs[0]]?.shingles == [3, 1 << 40] && comparables[stored.seqs[0]]?.text == nil)
            #expect(comparables[stored.seqs[1]]?.shingles == nil && comparables[stored.seqs[1]]?.text == stories[1].text)
            #expect(comparables[stored.seqs[2]]?.text == stories[2].text)
            #expect(try await database.registerCopy("a") == 0)
            try await database.advance(copy: "a", to: stored.seqs[2])
            #expect(try await database.pruneTexts() == 3)
            #expect(try await database.stories(after: 0, limit: 10).allSatisfy { $0.text == nil })
            let pruned = try await database.withCommitLock { connection in
                try await ClusterStoreTransaction(connection: connection, logger: Logger(label: "test")).comparables(stored.seqs)
            }.0
            #expect(pruned[stored.seqs[0]]?.shingles == [3, 1 << 40])
        }
    }

    @Test func aPollCommitRecordsItsEntriesDuplicatesAndEmptyOnes() async throws {
        try await withDatabase { database in
            try await database.register(feeds(1, hosts: 1))
            let lease = try #require(try await database.claim(worker: "w", limit: 1, perHost: 1, lease: .seconds(60)).first)
            let copy = ClusterDuplicate(entryKey: "entry-9", url: "https://b.example/9", title: "copy", reason: "same_text",
                                        duplicateOfSHA256: "sha-2", distance: nil, similarity: nil)
            let near = ClusterDuplicate(entryKey: "entry-8", url: nil, title: "near", reason: "near_text", duplicateOfSHA256: "sha-1",
                                        distance: 2, similarity: 0.87)
            let seqs = try await database.commitPoll(ClusterPollCommit(stories: [story(1), story(2)], duplicates: [copy, near],
                                                                       emptyEntryKeys: ["entry-7"], nextPollAt: Date().addingTimeInterval(900)),
                                                     under: lease)
            #expect(seqs.count == 2)
            #expect(try await database.seenEntryKeys(feedID: lease.feedID, among: ["entry-1", "entry-2", "entry-7", "entry-8", "entry-9", "entry-10"])
                    == ["entry-1", "entry-2", "entry-7", "entry-8", "entry-9"])
            #expect(try server.psql("SELECT entry_key || ':' || outcome || ':' || coalesce(story_seq::text, '-') FROM entries ORDER BY entry_key")
                    == "entry-1:stored:\(seqs[0])\nentry-2:stored:\(seqs[1])\nentry-7:empty:-\nentry-8:duplicate:\(seqs[0])\nentry-9:duplicate:\(seqs[1])\n")
            #expect(try server.psql("SELECT reason || ':' || coalesce(distance::text, '-') || ':' || coalesce(round(similarity::numeric, 2)::text, '-') FROM duplicates ORDER BY id")
                    == "same_text:-:-\nnear_text:2:0.87\n")
            // A duplicate of a story that is not stored fails the commit (and the lease is finished only by a good one).
            try await database.register([ClusterFeed(url: "https://c.example/f", name: "c", host: "c.example")])
            let other = try #require(try await database.claim(worker: "w", limit: 1, perHost: 1, lease: .seconds(60)).first)
            let orphan = ClusterDuplicate(entryKey: "x", url: nil, title: nil, reason: "same_text", duplicateOfSHA256: "no-such-story")
            await #expect(throws: ClusterStateError.self) {
                _ = try await database.commitPoll(ClusterPollCommit(duplicates: [orphan], nextPollAt: Date()), under: other)
            }
            #expect(try await database.seenEntryKeys(feedID: other.feedID, among: ["x"]).isEmpty)
        }
    }
}
