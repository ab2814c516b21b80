import ClusterState
import ClusterWorker
import FeedConfig
import Fetcher
import Foundation
import Logging
import Pipeline
import TestSupport
import Testing

/// Cluster workers against a real PostgreSQL server and a real HTTP server, both on 127.0.0.1
/// (skipped where PostgreSQL is not installed, unless FEEDCORPUS_REQUIRE_POSTGRES=1, as in CI).
@Suite(.offTheCooperativePool, .serialized, .enabled(if: TestPostgres.available, "PostgreSQL's server programs are not installed (apt-get install postgresql)"))
final class ClusterWorkerTests {
    let postgres: TestPostgres
    let http: TestHTTPServer
    let workspace: URL
    var generator = StoryGenerator(seed: 20)

    init() throws {
        postgres = try TestPostgres()
        http = try TestHTTPServer()
        workspace = try TemporaryFolder.make(prefix: "cluster-worker")
    }

    deinit {
        postgres.stop()
        http.stop()
        try? FileManager.default.removeItem(at: workspace)
    }

    /// A story with a long enough text for the near-duplicate checks.
    func story(_ guid: String, link: String? = nil) -> FeedFixtures.Item {
        let (headline, paragraphs) = generator.storyParts(paragraphs: 8)
        return FeedFixtures.Item(guid: guid, title: headline, paragraphs: paragraphs, link: link)
    }

    /// The same story lightly edited: an "UPDATE" headline, one word changed, a sentence added.
    func nearCopy(of item: FeedFixtures.Item, guid: String) -> FeedFixtures.Item {
        var paragraphs = item.paragraphs
        paragraphs[2] = paragraphs[2].replacingOccurrences(of: " the ", with: " this ")
        paragraphs.append("Officials declined to comment further on Tuesday evening.")
        return FeedFixtures.Item(guid: guid, title: "UPDATE: " + item.title, paragraphs: paragraphs)
    }

    func configuration(feeds: [String]) throws -> Configuration {
        let text = "corpus: \(workspace.path)/corpus\nstate: \(postgres.url)\nfetch: {host_delay: 0, allow_private_networks: true}\nfeeds:\n"
            + feeds.map { "  - {url: \"\(http.url("/files/\($0)"))\", name: \($0), fulltext: never}\n" }.joined()
        let path = workspace.appendingPathComponent("config-\(feeds.count)-\(UUID().uuidString).yaml").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return try ConfigLoader.load(path: path)
    }

    func withDatabase<T: Sendable>(_ body: (ClusterDatabase) async throws -> T) async throws -> T {
        try await ClusterDatabase.withDatabase(url: try #require(ClusterDatabaseURL(postgres.url)), logger: Logger(label: "test"),
                                               maxConnections: 8, body)
    }

    func worker(_ id: String, _ configuration: Configuration, database: ClusterDatabase) -> ClusterWorker {
        ClusterWorker(database: database, configuration: configuration,
                      settings: WorkerSettings(id: id, lease: .seconds(30), concurrency: 2, perHost: 4, idle: .milliseconds(100), exitWhenIdle: true),
                      logger: Logger(label: "test"))
    }

    /// The stored stories' reasons for dropping duplicates, and the stories' count.
    func outcome() throws -> (stories: Int, reasons: [String]) {
        let stories = Int(try postgres.psql("SELECT count(*) FROM stories").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        let reasons = try postgres.psql("SELECT reason FROM duplicates ORDER BY reason").split(separator: "\n").map(String.init)
        return (stories, reasons)
    }

    /// Two workers poll three feeds at once; the second and third feeds repeat the first's
    /// stories by text, by link, by global id and as a near duplicate. Each story is stored once,
    /// whichever worker got there first, and every repeat is recorded with its reason.
    @Test func twoWorkersStoreEachStoryOnce() async throws {
        let originals = (0..<5).map { story("a-\($0)") }
        var sameText = originals[0]
        sameText.guid = "b-0"
        sameText.link = "https://other.example/b-0"
        var sameLink = story("b-1", link: originals[1].link)
        sameLink.paragraphs = originals[1].paragraphs
        let near = nearCopy(of: originals[2], guid: "b-2")
        let fresh = story("b-3")
        let original = story("https://news.example/shared-id", link: "https://news.example/shared-id")
        try http.put("a.rss", FeedFixtures.rss(title: "A", items: originals + [original]))
        try http.put("b.rss", FeedFixtures.rss(title: "B", items: [sameText, sameLink, near, fresh]))
        let copyWithID = story("https://news.example/shared-id", link: "https://third.example/c-0")
        try http.put("c.rss", FeedFixtures.rss(title: "C", items: [copyWithID]))
        let configuration = try configuration(feeds: ["a.rss", "b.rss", "c.rss"])
        try await withDatabase { database in
            let (one, two) = (worker("w1", configuration, database: database), worker("w2", configuration, database: database))
            async let first = one.run(shouldStop: { false })
            async let second = two.run(shouldStop: { false })
            let summaries = try await [first, second]
            #expect(summaries.map(\.polls).reduce(0, +) == 3)
            #expect(summaries.map(\.failed).reduce(0, +) == 0)
        }
        let (stories, reasons) = try outcome()
        // a's six stories and b's new one; the rest are repeats.
        #expect(stories == 7)
        #expect(reasons.sorted() == ["near_text", "same_id", "same_text", "same_url"])
        // Every text went to a body before the commit lock and the bodies of the dropped repeats were deleted.
        #expect(try postgres.psql("""
            SELECT count(DISTINCT s.sha256) = count(*) AND count(b.text) = count(*) AND count(b.shingles) = count(*)
                   AND count(s.text) = 0 AND bool_and(b.sha256 = s.sha256)
            FROM stories s LEFT JOIN story_bodies b ON b.id = s.body_id
            """) == "t\n")
        #expect(try postgres.psql("SELECT count(*) FROM story_bodies") == "7\n")
        #expect(try postgres.psql("SELECT count(*) FROM entries WHERE outcome = 'stored'") == "7\n")
        #expect(try postgres.psql("SELECT count(*) FROM feeds WHERE lease_owner IS NULL AND last_result = 'ok'") == "3\n")
    }

    /// A worker that starts after the texts were pruned (every copy had them) still drops a near
    /// duplicate of a stored story: the exact check reads the shingles the state keeps.
    @Test func aNearDuplicateOfAPrunedStoryIsDropped() async throws {
        let originals = (0..<3).map { story("a-\($0)") }
        try http.put("a.rss", FeedFixtures.rss(title: "A", items: originals))
        try http.put("b.rss", FeedFixtures.rss(title: "B", items: [nearCopy(of: originals[1], guid: "b-0"), story("b-1")]))
        try await withDatabase { database in
            _ = try await worker("w1", try configuration(feeds: ["a.rss"]), database: database).run(shouldStop: { false })
            _ = try postgres.psql("UPDATE story_bodies SET text = NULL; UPDATE stories SET text = NULL")
            let summary = try await worker("w2", try configuration(feeds: ["a.rss", "b.rss"]), database: database).run(shouldStop: { false })
            #expect(summary.stored == 1 && summary.duplicates == 1)
        }
        let (stories, reasons) = try outcome()
        #expect(stories == 4 && reasons == ["near_text"])
        #expect(try postgres.psql("SELECT count(coalesce(b.shingles, s.shingles)) FROM stories s LEFT JOIN story_bodies b ON b.id = s.body_id") == "4\n")
    }

    /// A poll whose lease another worker took over (it expired) commits nothing, and the other
    /// worker's poll of the feed stores its stories.
    @Test func aPollWhoseLeaseWasLostCommitsNothing() async throws {
        try http.put("a.rss", FeedFixtures.rss(title: "A", items: (0..<4).map { story("a-\($0)") }))
        let configuration = try configuration(feeds: ["a.rss"])
        try await withDatabase { database in
            try await database.register(ClusterWorker.clusterFeeds(configuration))
            let lease = try #require(try await database.claim(worker: "w1", limit: 1, perHost: 1, lease: .seconds(30)).first)
            let client = HTTPClient(settings: IngestPass.clientSettings(configuration.fetch))
            defer { client.shutdown() }
            let poller = FeedPoller(configuration: configuration, logger: Logger(label: "test"), client: client, robots: nil)
            guard case let .parsed(poll) = await poller.poll(configuration.feeds[0], state: ClusterPollState(database: database, lease: lease)) else {
                Issue.record("the poll did not parse")
                return
            }
            // The lease runs out while the worker is slow; another worker claims the feed.
            _ = try postgres.psql("UPDATE feeds SET lease_expires = now() - interval '1 second'")
            let other = try #require(try await database.claim(worker: "w2", limit: 1, perHost: 1, lease: .seconds(30)).first)
            #expect(other.fence == lease.fence + 1)
            var store = try await ClusterStoryStore.open(database: database, dedupe: configuration.dedupe)
            await #expect(throws: ClusterStateError.self) { try await store.store(poll, under: lease) }
            #expect(try outcome().stories == 0)
            // The store's indexes were not touched by the failed commit: the new owner's poll stores all four.
            let stored = try await store.store(poll, under: other)
            #expect(stored.seqs.count == 4 && stored.report.stored == 4 && stored.lockHeld != nil)
        }
        #expect(try outcome().stories == 4)
        #expect(try postgres.psql("SELECT lease_owner IS NULL AND last_result = 'ok' FROM feeds") == "t\n")
    }
}
