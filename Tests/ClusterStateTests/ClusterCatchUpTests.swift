import ClusterState
import Dedupe
import FeedModel
import Foundation
import Logging
import TestSupport
import Testing

/// Two workers' dedupe indexes over one PostgreSQL state: what one commits, the other learns by
/// catching up from the committed fingerprints (`fingerprints(after:)`), and then decides exactly
/// as one machine would (skipped where PostgreSQL is not installed, unless
/// FEEDCORPUS_REQUIRE_POSTGRES=1, as in CI).
@Suite(.offTheCooperativePool, .serialized, .enabled(if: TestPostgres.available, "PostgreSQL's server programs are not installed (apt-get install postgresql)"))
final class ClusterCatchUpTests {
    let server: TestPostgres

    init() throws {
        server = try TestPostgres()
    }

    deinit { server.stop() }

    /// The stored texts by sequence number, read back from the state (a worker's exact check
    /// before dropping a near duplicate reads the stored text).
    final class StateLookup: StoredStoryLookup {
        var texts: [Int64: StoryText] = [:]
        func story(url: String) -> StoredStoryRef? { nil }
        func story(entryID: String) -> StoredStoryRef? { nil }
        func story(sha256: String) -> StoredStoryRef? { nil }
        func story(id: Int64) -> StoredStoryRef? { texts[id] == nil ? nil : StoredStoryRef(id: id, file: "") }
        func text(of story: StoredStoryRef) -> StoryText? { texts[story.id] }
        func fileSize(of story: StoredStoryRef) -> Int? { texts[story.id]?.fileContents.utf8.count }
    }

    /// One worker's dedupe state and how far it has read the committed stories.
    struct Worker {
        var deduplicator = Deduplicator(rule: NearDuplicateRule(), stored: [], events: EventGrouper())
        var seen: Int64 = 0

        mutating func catchUp(_ database: ClusterDatabase) async throws {
            let rows = try await database.fingerprints(after: seen, limit: 1000)
            var stored: [Deduplicator.StoredFingerprint] = []
            var members: [EventGrouper.Member] = []
            for (seq, print) in rows {
                let whole = try #require(MinHashSignature(bytes: print.minhash))
                let lead = try #require(MinHashSignature(bytes: print.leadMinhash))
                stored.append(.init(id: seq, simhash: print.simhash, signature: whole, leadSignature: lead,
                                    headlineHash: TextFingerprint.headlineHash(print.title)))
                members.append(.init(id: seq, event: print.event, terms: EventTerms(serialized: print.eventTerms), at: print.eventAt))
                seen = seq
            }
            deduplicator.catchUp(stored, events: members)
        }
    }

    let day = Date(timeIntervalSince1970: 1_764_633_600)

    /// Decides `story`; when it is to be stored, commits it with its fingerprints under `lease`.
    func decideAndCommit(_ story: IncomingStory, key: String, worker: inout Worker, lookup: StateLookup,
                         database: ClusterDatabase, lease: FeedLease) async throws -> DedupeDecision {
        let decision = try worker.deduplicator.decide(story, lookup: lookup)
        guard case let .store(event, _) = decision else { return decision }
        worker.deduplicator.accept(story, event: event)
        let fingerprint = story.fingerprint
        let committed = ClusterStory(
            entryKey: key, sha256: fingerprint.sha256, url: story.urls.first, entryID: nil, record: "{}", text: story.text.fileContents,
            fingerprint: ClusterFingerprint(simhash: fingerprint.simhash, minhash: fingerprint.signature.bytes, leadMinhash: fingerprint.leadSignature.bytes,
                                            title: story.text.headline, event: event, eventTerms: story.terms.serialized, eventAt: story.at))
        let seqs = try await database.commitPoll(ClusterPollCommit(stories: [committed], nextPollAt: Date()), under: lease)
        worker.deduplicator.commit(ids: seqs)
        worker.seen = max(worker.seen, seqs.last ?? 0)
        lookup.texts[seqs[0]] = story.text
        return decision
    }

    @Test func aWorkerThatCaughtUpDropsAnotherWorkersNearDuplicateAndItsEvents() async throws {
        try await ClusterDatabase.withDatabase(url: try #require(ClusterDatabaseURL(server.url)), logger: Logger(label: "test"), maxConnections: 4) { database in
            try await catchUpScenario(database)
        }
    }

    func catchUpScenario(_ database: ClusterDatabase) async throws {
        try await database.register([ClusterFeed(url: "https://a.example/feed", name: "a", host: "a.example"),
                                     ClusterFeed(url: "https://b.example/feed", name: "b", host: "b.example")])
        let leases = try await database.claim(worker: "w", limit: 2, perHost: 1, lease: .seconds(60))
        let leaseA = try #require(leases.first { $0.name == "a" })
        let leaseB = try #require(leases.first { $0.name == "b" })
        let lookup = StateLookup()

        var generator = StoryGenerator(seed: 41)
        let parts = generator.storyParts(paragraphs: 8)
        let original = StoryText(headline: parts.headline, paragraphs: parts.paragraphs)
        var copyText = original
        copyText.paragraphs[2] = "Reportedly " + copyText.paragraphs[2]
        copyText.paragraphs.append("(Reporting by a wire desk)")
        let other = generator.storyParts(paragraphs: 8)
        let unrelated = StoryText(headline: other.headline, paragraphs: other.paragraphs)

        var workerA = Worker()
        var workerB = Worker()
        let stored = try await decideAndCommit(IncomingStory(text: original, urls: ["https://a.example/1"], globalID: nil, at: day),
                                               key: "a1", worker: &workerA, lookup: lookup, database: database, lease: leaseA)
        guard case .store = stored else {
            Issue.record("the first story was not stored: \(stored)")
            return
        }
        let copy = IncomingStory(text: copyText, urls: ["https://b.example/1"], globalID: nil, at: day)
        // Worker B has not looked yet: on its own indexes the copy is new.
        var unaware = workerB.deduplicator
        if case .store = try unaware.decide(copy, lookup: lookup) {} else { Issue.record("B knew of A's story without catching up") }
        // Under the commit lock B first catches up; then the copy is A's story's near duplicate.
        try await workerB.catchUp(database)
        #expect(workerB.seen == 1)
        #expect(workerB.deduplicator.count == 1)
        #expect(workerB.deduplicator.eventGrouper.memberCount == 1)  // A's story is a member of B's events too
        let decision = try await decideAndCommit(copy, key: "b1", worker: &workerB, lookup: lookup, database: database, lease: leaseB)
        guard case let .duplicate(reason, .stored(of), near) = decision else {
            Issue.record("the copy was kept: \(decision)")
            return
        }
        #expect(reason == .nearText)
        #expect(of.id == 1)
        #expect((near?.containment ?? 0) >= 0.8)
        // A distinct story is kept by B; and A, catching up, learns it (and not its own story twice).
        let kept = try await decideAndCommit(IncomingStory(text: unrelated, urls: ["https://b.example/2"], globalID: nil, at: day),
                                             key: "b2", worker: &workerB, lookup: lookup, database: database, lease: leaseB)
        guard case .store = kept else {
            Issue.record("a distinct story was dropped: \(kept)")
            return
        }
        try await workerA.catchUp(database)
        #expect(workerA.deduplicator.count == 2)
        #expect(workerA.deduplicator.eventGrouper.memberCount == 2)
        var repeatOnA = workerA.deduplicator
        let again = try repeatOnA.decide(IncomingStory(text: unrelated, urls: ["https://a.example/9"], globalID: nil, at: day), lookup: lookup)
        if case .duplicate(.nearText, .stored(let target), _) = again { #expect(target.id == 2) } else {
            Issue.record("A does not know B's story after catching up: \(again)")
        }
    }
}
