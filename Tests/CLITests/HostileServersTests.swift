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
        #expect(lines["billion-laughs"]?.contains("entity-expansion") == true, "\(lines["billion-laughs"] ?? "no line")")
        #expect(lines["quadratic"]?.contains("entity-expansion") == true, "\(lines["quadratic"] ?? "no line")")
        #expect(lines["gzip-bomb"]?.contains("larger than the limit") == true, "\(lines["gzip-bomb"] ?? "no line")")
        #expect(lines["gigabyte"]?.contains("larger than the limit") == true, "\(lines["gigabyte"] ?? "no line")")
        #expect(lines["trickle"]?.contains("timed out") == true, "\(lines["trickle"] ?? "no line")")
        #expect(lines["hang"]?.contains("timed out") == true, "\(lines["hang"] ?? "no line")")
        #expect(lines["redirect-loop"]?.contains("redirect loop") == true, "\(lines["redirect-loop"] ?? "no line")")
        #expect(lines["html"]?.contains("not a feed") == true, "\(lines["html"] ?? "no line")")
        #expect(lines["random-bytes"]?.hasPrefix("FAILED") == true, "\(lines["random-bytes"] ?? "no line")")
        #expect(lines["deep"]?.contains("nested deeper") == true, "\(lines["deep"] ?? "no line")")
        #expect(lines["bad-utf8"]?.contains("not valid UTF-8") == true, "\(lines["bad-utf8"] ?? "no line")")
        #expect(lines["json-flood"]?.contains("only the first 1000 are read") == true, "\(lines["json-flood"] ?? "no line")")
        #expect(lines["attribute-feed"]?.contains("more than 1024 attributes") == true, "\(lines["attribute-feed"] ?? "no line")")
        #expect(lines["attribute-page"]?.hasPrefix("ok") == true, "\(lines["attribute-page"] ?? "no line")")
        #expect((summary["external_requests"] as? [String])?.isEmpty == true)
        let peak = try #require(summary["peak_rss_mb"] as? Double)
        print("hostile-servers run: peak RSS \(peak) MB")
        #expect(peak < 256)
    }
}
