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

    deinit {
        server.stop()
        try? FileManager.default.removeItem(at: workspace)
    }

    /// One feed, `news.xml` on the test server, into a corpus in the workspace.
    func configuration() -> Configuration {
        var fetch = FetchSettings()
        fetch.hostDelay = 0
        return Configuration(path: workspace.appendingPathComponent("c.yaml").path, corpusDirectory: workspace.appendingPathComponent("corpus").path,
                             statePath: workspace.appendingPathComponent("state.sqlite").path, fetch: fetch,
                             feeds: [FeedSource(url: server.url("files/news.xml"), name: "news", fullText: .never)])
    }

    @Test func theHookGetsTheNewFilesOnItsInput() async throws {
        try server.put("news.xml", FeedFixtures.rss(title: "N", items: [
            FeedFixtures.Item(guid: "1", title: "One", paragraphs: ["First story words here."]),
            FeedFixtures.Item(guid: "2", title: "Two", paragraphs: ["Second story, other words entirely."]),
        ]))
        let out = workspace.appendingPathComponent("hook-input.txt").path
        var config = configuration()
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

    @Test func aHookWritingALotIsReadWhileItRunsAndGetsNoDescriptorOfOurs() async throws {
        // 200 kB on each of stdout and stderr: more than a pipe holds, so a hook whose output is
        // read only after it exits would block until killed.
        let report = workspace.appendingPathComponent("fds.txt").path
        let command = "ls /proc/self/fd > '\(report)'; head -c 200000 /dev/zero; head -c 200000 /dev/zero >&2; echo end-of-output >&2; exit 4"
        let started = Date()
        let outcome = await NewStoryHook.run(command: command, files: ["/x"], timeout: 60, logger: Logger(label: "test"))
        guard case let .failed(status, stderr) = outcome else { Issue.record("unexpected \(outcome)"); return }
        #expect(status == 4)
        #expect(stderr.hasSuffix("end-of-output\n"))
        #expect(stderr.utf8.count <= 2000)
        #expect(Date().timeIntervalSince(started) < 30)
        // /proc/self/fd as `ls` saw it: 0, 1, 2 and the one ls opened to list the folder.
        let descriptors = try String(contentsOfFile: report, encoding: .utf8).split(separator: "\n").compactMap { Int($0) }
        #expect(descriptors.filter { $0 > 2 }.count <= 1, "the hook inherited \(descriptors)")
    }

    @Test func aRelativeHookRunsInTheConfigFolderWithItsEnvironment() async throws {
        try server.put("news.xml", FeedFixtures.rss(title: "N", items: [FeedFixtures.Item(guid: "1", title: "One", paragraphs: ["First story words here."])]))
        let hooks = workspace.appendingPathComponent("hooks")
        try FileManager.default.createDirectory(at: hooks, withIntermediateDirectories: true)
        let script = hooks.appendingPathComponent("on-new.sh")
        try Data("#!/bin/sh\necho \"$FEEDCORPUS_CORPUS $FEEDCORPUS_STORED $(pwd)\" > hook-ran.txt\n".utf8).write(to: script)
        #expect(chmod(script.path, 0o755) == 0)
        var config = configuration()
        config.onNewStories = "hooks/on-new.sh"
        let summary = try await IngestPass(configuration: config, logger: Logger(label: "test")).run()
        #expect(summary.stored == 1)
        let ran = try String(contentsOf: workspace.appendingPathComponent("hook-ran.txt"), encoding: .utf8)
        #expect(ran == "\(config.corpusDirectory) 1 \(workspace.resolvingSymlinksInPath().path)\n" || ran == "\(config.corpusDirectory) 1 \(workspace.path)\n", "\(ran)")
    }
}
