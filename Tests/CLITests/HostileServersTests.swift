import Foundation
import TestSupport
import Testing

/// One run against a local server mixing good feeds with attacks and junk
/// (scripts/hostile-servers.py): good stories stored, bad feeds reported, memory bounded.
@Suite(.offTheCooperativePool) struct HostileServersTests {
    @Test func goodFeedsAreStoredAndEveryBadOneIsReported() throws {
        let (summary, status) = try CLITests.script("hostile-servers.py", ["--max-rss-mb", "256"])
        #expect(status == 0, "\(summary["failures"] ?? "")")
        #expect(summary["ok"] as? Bool == true)
        #expect(summary["exit_status"] as? Int == 1)
        let lines = try #require(summary["feeds"] as? [String: String])
        #expect(lines.count == 19)
        #expect(lines["billion-laughs"]?.contains("entity-expansion") == true)
        #expect(lines["quadratic"]?.contains("entity-expansion") == true)
        #expect(lines["gzip-bomb"]?.contains("larger than the limit") == true)
        #expect(lines["gigabyte"]?.contains("larger than the limit") == true)
        #expect(lines["trickle"]?.contains("timed out") == true)
        #expect(lines["hang"]?.contains("timed out") == true)
        #expect(lines["redirect-loop"]?.contains("redirect loop") == true)
        #expect(lines["html"]?.contains("not a feed") == true)
        #expect(lines["random-bytes"]?.hasPrefix("FAILED") == true)
        #expect(lines["deep"]?.contains("nested deeper") == true)
        #expect(lines["bad-utf8"]?.contains("not valid UTF-8") == true)
        #expect(lines["json-flood"]?.contains("only the first 1000 are read") == true)
        #expect(lines["attribute-feed"]?.contains("more than 1024 attributes") == true)
        #expect(lines["attribute-page"]?.hasPrefix("ok") == true)
        #expect((summary["external_requests"] as? [String])?.isEmpty == true)
        let peak = try #require(summary["peak_rss_mb"] as? Double)
        print("hostile-servers run: peak RSS \(peak) MB")
        #expect(peak < 256)
    }
}
