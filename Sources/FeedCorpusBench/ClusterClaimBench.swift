import ArgumentParser
import ClusterState
import Foundation
import Logging
import PostgresNIO

/// Times feed claims and the commit lock at scale against a PostgreSQL server
/// (`bench/cluster-claim.sh` starts a scratch one): a million feeds loaded with COPY, several
/// workers claiming and committing each claimed feed's poll through the workers' own store step
/// (`storePoll`: lease check, catch-up reads, commit lock, the stories committed since, the
/// inserts, the lease's end) with stories the size of real ones (text, record, fingerprints,
/// shingles).
struct ClusterClaimBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster-claim",
        abstract: "Claim latency and commit-lock hold time with many feeds in a PostgreSQL cluster state.")

    @Option(help: "The cluster state (postgres://user@host:port/database); its feeds table must be empty.")
    var database: String

    @Option(help: "Feeds to load with COPY.")
    var feeds: Int = 1_000_000

    @Option(help: "Feeds per host (politeness groups).")
    var feedsPerHost: Int = 50

    @Option(help: "Concurrent workers.")
    var workers: Int = 4

    @Option(help: "Claims per worker.")
    var claims: Int = 500

    @Option(help: "Feeds asked for per claim.")
    var limit: Int = 10

    @Option(help: "New stories in each committed poll.")
    var stories: Int = 10

    @Flag(inversion: .prefixedNo, help: "Write the stories' texts before the commit lock, as workers do (--no-staged: under it, for comparison).")
    var staged: Bool = true

    func run() async throws {
        guard let url = ClusterDatabaseURL(database) else { throw ValidationError("not a postgres:// URL: \(database)") }
        let logger = Logger(label: "bench")
        let cluster = ClusterDatabase(url: url, logger: logger, maxConnections: 2 * workers + 2)
        let pool = Task { await cluster.run() }
        defer { pool.cancel() }
        try await cluster.migrate()
        let hosts = max(1, feeds / feedsPerHost)
        let loadStarted = ContinuousClock.now
        try await cluster.copyNewFeeds((0..<feeds).map {
            ClusterFeed(url: "https://h\($0 % hosts).example/feed/\($0)", name: "feed \($0)", host: "h\($0 % hosts).example")
        })
        let loaded = ContinuousClock.now - loadStarted
        _ = try await cluster.withCommitLock { connection in
            // Spread the due times over the last day, as a running cluster's are; then fresh statistics.
            try await connection.query("UPDATE feeds SET next_poll_at = now() - random() * interval '1 day'", logger: logger)
        }
        _ = try await cluster.withCommitLock { connection in try await connection.query("ANALYZE feeds", logger: logger) }
        print("cluster state \(url): \(feeds) feeds on \(hosts) hosts loaded with COPY in \(Self.seconds(loaded)) s")
        let storiesPerPoll = stories
        let staged = staged
        let started = ContinuousClock.now
        let (claimTimes, holds, claimed) = try await withThrowingTaskGroup(of: ([Duration], [Duration], Int).self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var claimTimes: [Duration] = [], holds: [Duration] = [], claimed = 0
                    var position: Int64 = 0
                    var generator = SplitMix(seed: UInt64(worker + 1))
                    for _ in 0..<claims {
                        let before = ContinuousClock.now
                        let leases = try await cluster.claim(worker: "bench-\(worker)", limit: limit, perHost: 2, lease: .seconds(120))
                        claimTimes.append(ContinuousClock.now - before)
                        claimed += leases.count
                        for lease in leases {
                            var commit = ClusterPollCommit(
                                stories: (0..<storiesPerPoll).map { Self.story(feed: lease.feedID, index: $0, generator: &generator) },
                                nextPollAt: Date().addingTimeInterval(3600), httpState: "{}", schedule: "{}")
                            let stored = try await cluster.storePoll(under: lease) { transaction in
                                // As a worker's store step: catch up and stage the texts before the lock, then the
                                // stories committed since under it.
                                while let last = try await transaction.fingerprints(after: position, limit: 5_000).last { position = last.seq }
                                if staged {
                                    let bodies = try await transaction.stageBodies(commit.stories.map { ($0.sha256, $0.text, $0.shingles) })
                                    let ids = Dictionary(bodies.map { ($0.sha256, $0.id) }, uniquingKeysWith: { first, _ in first })
                                    for index in commit.stories.indices { commit.stories[index].bodyID = ids[commit.stories[index].sha256] }
                                }
                                if let last = try await transaction.lockCommitsReadingCommitted(after: position).last { position = last.keys.seq }
                                return commit
                            }
                            position = max(position, stored.seqs.max() ?? position)
                            if let held = stored.lockHeld { holds.append(held) }
                        }
                    }
                    return (claimTimes, holds, claimed)
                }
            }
            var all: ([Duration], [Duration], Int) = ([], [], 0)
            for try await part in group {
                all.0 += part.0
                all.1 += part.1
                all.2 += part.2
            }
            return all
        }
        let elapsed = ContinuousClock.now - started
        print("\(workers) workers, \(claimTimes.count) claims of up to \(limit) feeds (\(claimed) feeds claimed, each a poll of \(storiesPerPoll) stories committed, texts \(staged ? "staged before" : "written under") the lock) in \(Self.seconds(elapsed)) s")
        print("claim latency: p50 \(Self.milliseconds(Self.percentile(claimTimes, 0.5))) ms, p99 \(Self.milliseconds(Self.percentile(claimTimes, 0.99))) ms, max \(Self.milliseconds(claimTimes.max() ?? .zero)) ms")
        print("commit-lock hold (grant to end of COMMIT): p50 \(Self.milliseconds(Self.percentile(holds, 0.5))) ms, p99 \(Self.milliseconds(Self.percentile(holds, 0.99))) ms, max \(Self.milliseconds(holds.max() ?? .zero)) ms")
    }

    /// A story of a real one's size: about 3,500 characters of text, a record line, signatures,
    /// event terms and 450 shingles.
    static func story(feed: Int64, index: Int, generator: inout SplitMix) -> ClusterStory {
        let words = (0..<550).map { _ in Self.words[Int(generator.next() % UInt64(Self.words.count))] }
        let text = "Headline \(feed)-\(index)\n\n" + words.joined(separator: " ") + "\n"
        let key = "\(feed)-\(index)-\(generator.next())"
        let record = #"{"title":"Headline \#(key)","url":"https://example.org/\#(key)","feed":"https://h.example/feed/\#(feed)","#
            + #""published":"2026-12-01T10:00:00Z","fetched":"2026-12-01T10:05:00Z","lang":"en","event":"e-\#(key)","#
            + #""sha256":"\#(key)","words":550,"byline":"A Reporter","source":"Example News","summary":"\#(words.prefix(40).joined(separator: " "))"}"#
        let fingerprint = ClusterFingerprint(
            simhash: generator.next(), minhash: (0..<132).map { _ in UInt8(truncatingIfNeeded: generator.next()) },
            leadMinhash: (0..<52).map { _ in UInt8(truncatingIfNeeded: generator.next()) }, title: "Headline \(key)", event: "e-\(key)",
            eventTerms: words.prefix(30).joined(separator: " "), eventAt: Date())
        return ClusterStory(entryKey: key, sha256: "sha-\(key)", url: "https://example.org/\(key)", entryID: "urn:\(key)", record: record,
                            text: text, fingerprint: fingerprint, shingles: (0..<450).map { _ in generator.next() }.sorted())
    }

    static let words = ["the", "minister", "said", "on", "Tuesday", "that", "budget", "council", "would", "vote", "against", "plan",
                        "in", "a", "statement", "officials", "report", "city", "water", "police", "election", "court", "ruled", "of",
                        "and", "to", "year", "million", "percent", "rise", "market", "energy", "prices", "government", "week"]

    static func percentile(_ values: [Duration], _ share: Double) -> Duration {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .zero }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * share))]
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.1f", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    static func milliseconds(_ duration: Duration) -> String {
        String(format: "%.2f", (Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18) * 1000)
    }
}

/// A small deterministic generator (SplitMix64) for the benchmark's stories.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
