import ArgumentParser
import ClusterState
import Foundation
import Logging
import PostgresNIO

/// Times feed claims and the commit lock at scale against a PostgreSQL server
/// (`bench/cluster-claim.sh` starts a scratch one): a million feeds loaded with COPY, several
/// workers claiming, committing a story under the commit lock and finishing each lease.
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
            try await connection.query("CREATE TABLE IF NOT EXISTS bench_stories(id BIGSERIAL PRIMARY KEY, feed BIGINT, text TEXT)", logger: logger)
        }
        _ = try await cluster.withCommitLock { connection in try await connection.query("ANALYZE feeds", logger: logger) }
        print("cluster state \(url): \(feeds) feeds on \(hosts) hosts loaded with COPY in \(Self.seconds(loaded)) s")
        let story = String(repeating: "A story of about three thousand characters. ", count: 70)
        let started = ContinuousClock.now
        let (claimTimes, holds, claimed) = try await withThrowingTaskGroup(of: ([Duration], [Duration], Int).self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var claimTimes: [Duration] = [], holds: [Duration] = [], claimed = 0
                    for _ in 0..<claims {
                        let before = ContinuousClock.now
                        let leases = try await cluster.claim(worker: "bench-\(worker)", limit: limit, perHost: 2, lease: .seconds(120))
                        claimTimes.append(ContinuousClock.now - before)
                        claimed += leases.count
                        for lease in leases {
                            let (_, held) = try await cluster.withCommitLock { connection in
                                try await connection.query("INSERT INTO bench_stories(feed, text) VALUES(\(lease.feedID), \(story))", logger: logger)
                            }
                            holds.append(held)
                            try await cluster.finish(lease, nextPollAt: Date().addingTimeInterval(3600), result: "ok") { _ in }
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
        print("\(workers) workers, \(claimTimes.count) claims of up to \(limit) feeds (\(claimed) feeds claimed, committed and finished) in \(Self.seconds(elapsed)) s")
        print("claim latency: p50 \(Self.milliseconds(Self.percentile(claimTimes, 0.5))) ms, p99 \(Self.milliseconds(Self.percentile(claimTimes, 0.99))) ms, max \(Self.milliseconds(claimTimes.max() ?? .zero)) ms")
        print("commit-lock hold (grant to end of COMMIT): p50 \(Self.milliseconds(Self.percentile(holds, 0.5))) ms, p99 \(Self.milliseconds(Self.percentile(holds, 0.99))) ms, max \(Self.milliseconds(holds.max() ?? .zero)) ms")
    }

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
