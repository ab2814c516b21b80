import Foundation
import TestSupport
import Testing

/// Cluster mode's proof (scripts/cluster-proof.py, run small here; run it large by hand): workers
/// and a materializer on a scratch PostgreSQL server, generated feeds behind a loopback server
/// with latency, workers and the materializer killed, a worker stalled past its lease, a host
/// answering Retry-After. Needs PostgreSQL (skipped where it is not installed, unless
/// FEEDCORPUS_REQUIRE_POSTGRES=1, as in CI) and ../shared/tools/gen_feeds.py (skipped without it,
/// like the other tests on ../shared's data; the worker's own tests need neither).
@Suite(.offTheCooperativePool, .enabled(if: TestPostgres.available, "PostgreSQL's server programs are not installed (apt-get install postgresql)"),
       .enabled(if: FileManager.default.fileExists(atPath: CLITests.repository.appendingPathComponent("../shared/tools/gen_feeds.py").standardizedFileURL.path),
                "needs ../shared/tools/gen_feeds.py beside the repository"))
struct ClusterProofTests {

    @Test func workersLoseNothingStoreNothingTwiceAndStayPolite() throws {
        let (summary, status) = try CLITests.script("cluster-proof.py", [
            "--feeds", "30", "--items", "10", "--hosts", "8", "--workers", "3", "--concurrency", "3", "--lease", "4",
            "--chaos-seconds", "30", "--interval", "30", "--seed", "3"])
        let failures = summary["failures"] as? [String] ?? ["no failures list"]
        #expect(status == 0 && failures.isEmpty, "\(failures)")
        let figures = try #require(summary["figures"] as? [String: Any])
        // The run did what it claims: both throughput runs polled, workers were killed and stalled,
        // stories were stored and materialized twice, a host answered Retry-After.
        #expect((figures["polls_per_second_1"] as? Double ?? 0) > 0 && (figures["polls_per_second_3"] as? Double ?? 0) > 0)
        #expect((figures["worker_kills"] as? Int ?? 0) >= 1 && (figures["stalls"] as? Int ?? 0) >= 1)
        #expect((figures["stories"] as? Int ?? 0) > 200)
        #expect(figures["stories_lost"] as? Int == 0 && figures["duplicates_kept"] as? Int == 0)
        #expect(figures["copies_identical"] as? Bool == true && figures["verify_exit"] as? Int == 0)
        #expect(figures["retry_after_answers"] as? Int == 1 && figures["inside_retry_after"] as? Int == 0)
        // A pair right after a stalled worker is continued is reported apart (see the script).
        #expect(figures["closer_than_delay"] as? Int == 0, "\(figures)")
    }
}
