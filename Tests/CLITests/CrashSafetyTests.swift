import Foundation
import TestSupport
import Testing

/// SIGKILL at random moments during an ingest, many times, then the corpus is checked
/// (scripts/crash-safety.py, run small here; run it large by hand).
@Suite(.offTheCooperativePool) struct CrashSafetyTests {
    @Test func killedRunsLoseNothingAndLeaveNoDebris() throws {
        let (summary, status) = try CLITests.script("crash-safety.py", ["--feeds", "6", "--entries", "15", "--rounds", "12", "--max-delay", "0.6"])
        #expect(status == 0, "\(summary["failures"] ?? "")")
        #expect(summary["ok"] as? Bool == true)
        #expect(summary["kills"] as? Int == 12)
        #expect((summary["killed_while_running"] as? Int ?? 0) >= 1)
        let distinct = try #require(summary["distinct_stories"] as? Int)
        #expect(distinct > 900)  // 6 feeds x 15 entries x 12 rounds, less the syndicated copies
        #expect(summary["stored_files"] as? Int == distinct)
        #expect(summary["manifest_lines"] as? Int == distinct)
        #expect(summary["state_records"] as? Int == distinct)
        #expect(summary["temporary_files_left"] as? Int == 0)
        #expect(summary["lost"] as? Int == 0)
        #expect(summary["stored_twice"] as? Int == 0)
        #expect(summary["verify_exit"] as? Int == 0)
    }
}
