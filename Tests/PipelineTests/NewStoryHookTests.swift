import FeedConfig
import Foundation
import Logging
import Pipeline
import TestSupport
import Testing

@Suite(.serialized) final class NewStoryHookTests {
    let server: TestHTTPServer
    let workspace: URL

    init() throws {
        server = try TestHTTPServer()
        workspace = try TemporaryFolder.make(prefix: "hook")
    }

    deinit { server.stop() }

    @Test func theHookGetsTheNewFilesOnItsInput() async throws {
        try server.put("news.xml", FeedFixtures.rss(title: "N", items: [
            FeedFixtures.Item(guid: "1", title: "One", paragraphs: ["First story words here."]),
            FeedFixtures.Item(guid: "2", title: "Two", paragraphs: ["Second story, other words entirely."]),
        ]))
        let out = workspace.appendingPathComponent("hook-input.txt").path
        var fetch = FetchSettings()
        fetch.hostDelay = 0
        var config = Configuration(path: workspace.appendingPathComponent("c.yaml").path, corpusDirectory: workspace.appendingPathComponent("corpus").path,
                                   statePath: workspace.appendingPathComponent("state.sqlite").path, fetch: fetch,
                                   feeds: [FeedSource(url: server.url("files/news.xml"), name: "news", fullText: .never)])
        config.onNewStories = "cat > '\(out)'"
        let summary = try await IngestPass(configuration: config, logger: Logger(label: "test")).run()
        #expect(summary.stored == 2)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.hasPrefix(config.corpusDirectory + "/") && FileManager.default.fileExists(atPath: $0) })

        // A pass that stores nothing does not run the hook.
        try FileManager.default.removeItem(atPath: out)
        _ = try await IngestPass(configuration: config, logger: Logger(label: "test"), pollAll: true).run()
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func aFailingHookIsReportedWithItsStatus() async {
        let outcome = await NewStoryHook.run(command: "echo broken >&2; exit 3", files: ["/x"], timeout: 10, logger: Logger(label: "test"))
        #expect(outcome == .failed(status: 3, stderr: "broken\n"))
    }

    @Test func aHookThatHangsIsStoppedAtItsTimeout() async {
        let started = Date()
        let outcome = await NewStoryHook.run(command: "sleep 60", files: ["/x"], timeout: 1, logger: Logger(label: "test"))
        #expect(outcome == .timedOut)
        #expect(Date().timeIntervalSince(started) < 30)
    }
}
