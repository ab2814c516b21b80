import CorpusWriter
import Dedupe
import FeedModel
import Foundation
import TestSupport
import Testing

/// The commands in cluster mode (`state: postgres://…`): `materialize` writes the corpus folder
/// from the shared state; the commands that work on a local state say so instead.
@Suite(.offTheCooperativePool) struct ClusterModeRefusalTests {
    @Test func localStateCommandsRefuseAPostgresStateAndMaterializeRefusesASQLiteOne() throws {
        let workspace = try TemporaryFolder.make(prefix: "cluster-cli")
        let cluster = workspace.appendingPathComponent("cluster.yaml").path
        try Data("corpus: corpus\nstate: postgres://corpus@127.0.0.1:1/news\nfeeds: [https://a.example/rss]\n".utf8).write(to: URL(fileURLWithPath: cluster))
        for command in [["fetch", "--once"], ["run"], ["poll"], ["enable", "a"]] {
            let run = try CLITests.run(CLITests.binary, command + ["--config", cluster])
            #expect(run.status == 2, "\(command): \(run.stderr)")
            #expect(run.stderr.contains("cluster mode") && run.stderr.contains("feedcorpus materialize"), "\(command): \(run.stderr)")
        }
        // check in cluster mode connects to the server instead of looking for a state file.
        let check = try CLITests.run(CLITests.binary, ["check", "--config", cluster])
        #expect(check.status == 2, "\(check.stdout)")
        #expect(check.stdout.contains("PROBLEM state: cluster state: connect") && check.stdout.contains("is the server running"), "\(check.stdout)")
        #expect(check.stdout.contains("ok      corpus:") && check.stdout.contains("a corpus copy"), "\(check.stdout)")
        // status works in cluster mode: a state it cannot reach is an error saying what to check.
        let status = try CLITests.run(CLITests.binary, ["status", "--config", cluster])
        #expect(status.status == 1, "\(status.stdout) \(status.stderr)")
        #expect(status.stderr.contains("cluster state: connect") && status.stderr.contains("is the server running"), "\(status.stderr)")
        let local = workspace.appendingPathComponent("local.yaml").path
        try Data("corpus: corpus\nstate: feedcorpus.sqlite\nfeeds: [https://a.example/rss]\n".utf8).write(to: URL(fileURLWithPath: local))
        for command in [["materialize", "--once"], ["worker", "--exit-when-idle"]] {
            let run = try CLITests.run(CLITests.binary, command + ["--config", local])
            #expect(run.status == 2)
            #expect(run.stderr.contains("cluster mode only"), "\(command): \(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: workspace.appendingPathComponent("corpus").path))
    }
}

@Suite(.offTheCooperativePool, .serialized, .enabled(if: TestPostgres.available, "PostgreSQL's server programs are not installed (apt-get install postgresql)"))
final class MaterializeCommandTests {
    let server: TestPostgres
    let workspace: URL

    init() throws {
        server = try TestPostgres()
        workspace = try TemporaryFolder.make(prefix: "materialize-cli")
    }

    deinit { server.stop() }

    func config(corpus: String, hook: String? = nil, metrics: String? = nil) throws -> String {
        let path = workspace.appendingPathComponent("\(corpus).yaml").path
        var yaml = "corpus: \(corpus)\nstate: \(server.url)\nfeeds: [https://a.example/rss]\n"
        if let hook { yaml += "on_new_stories: \"\(hook)\"\n" }
        if let metrics { yaml += "metrics: \(metrics)\n" }
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The text of story `number` as a worker commits it, and its text hash (as the dedupe stage computes it).
    static func text(_ number: Int) -> String { "Story \(number)\nThe text of story \(number).\n" }
    static func sha(_ number: Int) -> String { TextFingerprint(story: StoryText(fileContents: text(number))).sha256 }
    /// Story `number`'s file name in its folder, where it is the `index`-th file.
    static func name(_ number: Int, index: Int) -> String { String(format: "%03d_", index) + sha(number).prefix(16) + ".txt" }

    /// A committed story as a worker leaves it in the state (set up with psql: not the code under test).
    func commit(_ number: Int) throws {
        let sha = Self.sha(number)
        let record = """
            {"author":null,"canonical_url":null,"duplicate_of":null,"entry_id":null,"event":null,"feed":"a","feed_url":"https://a.example/rss",\
            "fetched":"2026-12-02T10:00:0\(number)Z","file":"","language":"en","near_distance":null,"published":null,"sha256":"\(sha)",\
            "simhash":"00000000000000\(String(format: "%02x", number))","supersedes":null,"text_source":"feed","title":"Story \(number)",\
            "url":"https://a.example/\(number)","via":null}
            """
        _ = try server.psql("""
            INSERT INTO feeds(url, name, host) VALUES('https://a.example/rss', 'a', 'a.example') ON CONFLICT DO NOTHING;
            INSERT INTO stories(feed_id, entry_key, sha256, url, record, text)
            SELECT id, 'k\(number)', '\(sha)', 'https://a.example/\(number)', '\(record)', E'Story \(number)\\nThe text of story \(number).\\n'
            FROM feeds WHERE url = 'https://a.example/rss';
            """)
    }

    @Test func materializeOnceWritesTheCommittedStoriesRunsTheHookAndCatchesUpLater() throws {
        let hookOutput = workspace.appendingPathComponent("hook.txt").path
        let path = try config(corpus: "copy", hook: "cat >> \(hookOutput)")
        let check = try CLITests.run(CLITests.binary, ["check", "--config", path])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        #expect(check.stdout.contains("ok      state: cluster state postgres://feedcorpus@127.0.0.1"), "\(check.stdout)")
        // First start on an empty state: the schema is made, nothing to write.
        var run = try CLITests.run(CLITests.binary, ["materialize", "--once", "--config", path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("0 stories written") && run.stdout.contains("up to date"), "\(run.stdout)")

        try commit(1)
        try commit(2)
        run = try CLITests.run(CLITests.binary, ["materialize", "--once", "--config", path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("materialized 2 stories up to 2"), "\(run.stdout)")
        let folder = workspace.appendingPathComponent("copy/2026-12-02")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names == [Self.name(1, index: 0), Self.name(2, index: 1), "manifest.jsonl"])
        #expect(try String(contentsOf: folder.appendingPathComponent(Self.name(2, index: 1)), encoding: .utf8) == "Story 2\nThe text of story 2.\n")
        let manifest = try String(contentsOf: folder.appendingPathComponent("manifest.jsonl"), encoding: .utf8)
        #expect(manifest.contains("\"file\":\"2026-12-02/\(Self.name(1, index: 0))\""))
        #expect(try String(contentsOfFile: hookOutput, encoding: .utf8) == "2026-12-02/\(Self.name(1, index: 0))\n2026-12-02/\(Self.name(2, index: 1))\n")
        // Texts every copy has are gone from the state.
        #expect(try server.psql("SELECT count(coalesce(b.text, s.text)) FROM stories s LEFT JOIN story_bodies b ON b.id = s.body_id").trimmingCharacters(in: .whitespacesAndNewlines) == "0")

        // A story committed later joins the same copy.
        try commit(3)
        run = try CLITests.run(CLITests.binary, ["materialize", "--once", "--quiet", "--config", path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("1 story written") && run.stdout.contains("at story 3"), "\(run.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).count == 4)

        // status reads the shared state: the feed, its lease, the stories and the copy's position.
        let copyID = try #require(try String(contentsOf: workspace.appendingPathComponent("copy/.feedcorpus-id"), encoding: .utf8)
            .split(separator: "\n").first.map(String.init))
        try commit(4)
        _ = try server.psql("UPDATE feeds SET lease_owner = 'worker-7', lease_expires = now() + interval '5 minutes'")
        run = try CLITests.run(CLITests.binary, ["status", "--config", path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty, "\(run.stderr)")
        #expect(run.stdout.contains("cluster state postgres://127.0.0.1:"), "\(run.stdout)")
        #expect(run.stdout.contains("leased by worker-7 until"), "\(run.stdout)")
        #expect(run.stdout.contains("    4 stored, 0 duplicates dropped"), "\(run.stdout)")
        #expect(run.stdout.contains("corpus copy \(copyID): at story 3, 1 behind"), "\(run.stdout)")
        #expect(run.stdout.contains("total: 1 feeds (1 leased by 1 worker), 4 stories committed"), "\(run.stdout)")
        run = try CLITests.run(CLITests.binary, ["status", "--json", "--config", path])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let totals = try #require(object["totals"] as? [String: Any])
        #expect(totals["stories_committed"] as? Int == 4 && totals["workers"] as? Int == 1)
        let copies = try #require(object["corpus_copies"] as? [[String: Any]])
        #expect(copies.count == 1 && copies.first?["behind"] as? Int == 1)
        let feeds = try #require(object["feeds"] as? [[String: Any]])
        #expect(feeds.first?["leased_by"] as? String == "worker-7" && feeds.first?["configured"] as? Bool == true)

        // duplicates names the stored story by its file in this copy, or by its number when the
        // copy does not have it yet.
        _ = try server.psql("""
            INSERT INTO duplicates(feed_id, entry_key, url, title, reason, duplicate_of, distance, similarity)
            SELECT id, 'k9', 'https://b.example/9', 'Copy of story 1', 'near_text', 1, 2, 0.93 FROM feeds;
            INSERT INTO duplicates(feed_id, entry_key, url, title, reason, duplicate_of)
            SELECT id, 'k10', 'https://a.example/4', 'Story 4 again', 'same_url', 4 FROM feeds;
            """)
        run = try CLITests.run(CLITests.binary, ["duplicates", "--config", path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("near_text (similarity 0.93, distance 2)  Copy of story 1"), "\(run.stdout)")
        #expect(run.stdout.contains("    duplicates 2026-12-02/\(Self.name(1, index: 0))  Story 1"), "\(run.stdout)")
        #expect(run.stdout.contains("    duplicates story 4 (not in this machine's corpus copy)  Story 4"), "\(run.stdout)")
        #expect(run.stdout.hasSuffix("2 duplicates\n"), "\(run.stdout)")

        // verify checks the copy against the shared state up to its position (story 3).
        run = try CLITests.run(CLITests.binary, ["verify", "--config", path])
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        #expect(run.stdout.contains("checked 3 story files in 1 folder against 3 state records: consistent"), "\(run.stdout)")
        let edited = folder.appendingPathComponent(Self.name(2, index: 1))
        try Data("Story 2\nThe text of story 2, edited.\n".utf8).write(to: edited)
        try FileManager.default.removeItem(at: folder.appendingPathComponent(Self.name(3, index: 2)))
        run = try CLITests.run(CLITests.binary, ["verify", "--config", path])
        #expect(run.status == 1)
        #expect(run.stdout.contains("PROBLEM  changed_file: 2026-12-02/\(Self.name(2, index: 1))"), "\(run.stdout)")
        #expect(run.stdout.contains("PROBLEM  missing_file: 2026-12-02/\(Self.name(3, index: 2))"), "\(run.stdout)")
        #expect(!run.stdout.contains("--repair"), "\(run.stdout)")
        // A story of the state up to the position that the copy's manifests lack.
        _ = try server.psql("UPDATE corpus_copies SET position = 2")
        let manifestURL = folder.appendingPathComponent("manifest.jsonl")
        let lines = try String(contentsOf: manifestURL, encoding: .utf8).split(separator: "\n")
        try Data((lines.dropFirst().joined(separator: "\n") + "\n").utf8).write(to: manifestURL)
        run = try CLITests.run(CLITests.binary, ["verify", "--json", "--config", path])
        #expect(run.status == 1)
        #expect(run.stdout.contains("\"path\" : \"story 1\""), "\(run.stdout)")
        run = try CLITests.run(CLITests.binary, ["verify", "--repair", "--config", path])
        #expect(run.status == 2)
        #expect(run.stderr.contains("make a damaged copy again"), "\(run.stderr)")
    }

    /// Waits (up to `seconds`) until `condition` holds; false when it never did.
    func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    /// GET `path` from 127.0.0.1:`port` (nil when nothing answers): the status code and the body.
    func get(port: Int, _ path: String) -> (status: Int32, body: String)? {
        guard let fd = try? MetricsEndpointTests.connect(port: port) else { return nil }
        defer { close(fd) }
        MetricsEndpointTests.send(fd, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        let answer = MetricsEndpointTests.readAll(fd, timeout: 5).text
        guard let head = answer.range(of: "\r\n\r\n"), let code = answer.split(separator: " ").dropFirst().first.flatMap({ Int32($0) }) else { return nil }
        return (code, String(answer[head.upperBound...]))
    }

    @Test func asAServiceItWritesNewStoriesAsTheyAreCommittedAndStopsOnSIGTERM() throws {
        let port = try TestPostgres.freePort()
        let textfile = workspace.appendingPathComponent("materialize.prom").path
        let path = try config(corpus: "live", metrics: "{listen: \"127.0.0.1:\(port)\", textfile: \(textfile)}")
        let process = Process()
        process.executableURL = CLITests.binary
        process.arguments = ["materialize", "--interval", "0.2", "--config", path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let folder = workspace.appendingPathComponent("live/2026-12-02")
        func files() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".txt") } }
        // The schema is made by the running materializer; stories committed later are picked up.
        #expect(eventually(20) { (try? self.server.psql("SELECT count(*) FROM corpus_copies")) == "1\n" })
        try commit(1)
        #expect(eventually(20) { files().count == 1 }, "\(files())")
        try commit(2)
        #expect(eventually(20) { files().count == 2 }, "\(files())")
        // Its metrics: on the listener and in the textfile; /healthz is ok once it is up to date.
        #expect(eventually(20) { self.get(port: port, "/metrics")?.body.contains("feedcorpus_copy_position 2") == true })
        let metricsText = get(port: port, "/metrics")?.body ?? ""
        #expect(metricsText.contains("feedcorpus_materialized_stories_total 2"), "\(metricsText)")
        #expect(metricsText.contains("feedcorpus_copy_behind_stories 0"), "\(metricsText)")
        #expect(metricsText.contains("# HELP feedcorpus_copy_position"), "\(metricsText)")
        let health = get(port: port, "/healthz")
        #expect(health?.status == 200 && health?.body.contains("\"position\":2") == true, "\(String(describing: health))")
        #expect(eventually(20) { ((try? String(contentsOfFile: textfile, encoding: .utf8)) ?? "").contains("feedcorpus_copy_position 2") })
        // A second materializer on the same folder is refused while the first holds it.
        let second = try CLITests.run(CLITests.binary, ["materialize", "--once", "--config", path])
        #expect(second.status == 75, "\(second.stderr)")
        process.terminate()  // SIGTERM
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0)
        #expect(text.contains("2 stories written") && text.contains("(stopped by a signal)"), "\(text)")
        #expect(files().sorted() == [Self.name(1, index: 0), Self.name(2, index: 1)])
    }

    @Test func aMetricsAddressInUseStopsTheServiceWithAConfigError() throws {
        // The scratch server's own port is taken.
        let path = try config(corpus: "busy", metrics: "{listen: \"127.0.0.1:\(server.port)\"}")
        let run = try CLITests.run(CLITests.binary, ["materialize", "--config", path])
        #expect(run.status == 2, "\(run.stdout) \(run.stderr)")
        #expect(run.stderr.contains("cannot listen for metrics on 127.0.0.1:\(server.port)"), "\(run.stderr)")
    }

    @Test func anUnreachableStateFailsOnceWithTheReason() throws {
        let path = workspace.appendingPathComponent("down.yaml").path
        try Data("corpus: copy\nstate: postgres://feedcorpus@127.0.0.1:\(try TestPostgres.freePort())/feedcorpus\nfeeds: [https://a.example/rss]\n".utf8)
            .write(to: URL(fileURLWithPath: path))
        let run = try CLITests.run(CLITests.binary, ["materialize", "--once", "--config", path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("cluster state: connect") && run.stderr.contains("is the server running"), "\(run.stderr)")
    }
}

/// `feedcorpus worker` end to end: feeds on a loopback HTTP server, a scratch PostgreSQL state,
/// then `materialize` writes what the worker committed.
@Suite(.offTheCooperativePool, .serialized, .enabled(if: TestPostgres.available, "PostgreSQL's server programs are not installed (apt-get install postgresql)"))
final class WorkerCommandTests {
    let server: TestPostgres
    let http: TestHTTPServer
    let workspace: URL

    init() throws {
        server = try TestPostgres()
        http = try TestHTTPServer()
        workspace = try TemporaryFolder.make(prefix: "worker-cli")
    }

    deinit {
        server.stop()
        http.stop()
    }

    @Test func aWorkerPollsTheFeedsIntoTheStateWithMetricsAndACopyIsWrittenFromIt() throws {
        var generator = StoryGenerator(seed: 5)
        func items(_ prefix: String, _ count: Int) -> [FeedFixtures.Item] {
            (0..<count).map { index in
                let (headline, paragraphs) = generator.storyParts(paragraphs: 4)
                return FeedFixtures.Item(guid: "\(prefix)-\(index)", title: headline, paragraphs: paragraphs)
            }
        }
        let first = items("a", 3)
        try http.put("a.rss", FeedFixtures.rss(title: "A", items: first))
        try http.put("b.rss", FeedFixtures.rss(title: "B", items: items("b", 2) + [FeedFixtures.Item(guid: "b-copy", title: first[0].title,
                                                                                                   paragraphs: first[0].paragraphs)]))
        let textfile = workspace.appendingPathComponent("worker.prom").path
        let path = workspace.appendingPathComponent("cluster.yaml").path
        try Data("""
            corpus: corpus
            state: \(server.url)
            fetch: {host_delay: 0.05, allow_private_networks: true}
            metrics: {textfile: \(textfile)}
            feeds:
              - {url: "\(http.url("/files/a.rss"))", name: a, fulltext: never}
              - {url: "\(http.url("/files/b.rss"))", name: b, fulltext: never}

            """.utf8).write(to: URL(fileURLWithPath: path))
        let run = try CLITests.run(CLITests.binary, ["worker", "--exit-when-idle", "--id", "w1", "--config", path])
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        #expect(run.stdout.contains("worker w1: 2 polls, 5 stories stored, 1 duplicate(s) dropped, 0 failed, 0 lease(s) lost"), "\(run.stdout)")
        let metrics = (try? String(contentsOfFile: textfile, encoding: .utf8)) ?? ""
        #expect(metrics.contains("feedcorpus_worker_claims_total 2"), "\(metrics)")
        #expect(metrics.contains("feedcorpus_stories_stored_total 5"), "\(metrics)")
        #expect(metrics.contains("feedcorpus_worker_commit_lock_hold_seconds_count 2"), "\(metrics)")
        // Nothing is due any more: a second worker polls nothing.
        let again = try CLITests.run(CLITests.binary, ["worker", "--exit-when-idle", "--id", "w2", "--config", path])
        #expect(again.status == 0 && again.stdout.contains("worker w2: 0 polls"), "\(again.stdout)")
        let copy = try CLITests.run(CLITests.binary, ["materialize", "--once", "--config", path])
        #expect(copy.status == 0, "\(copy.stderr)")
        let records = CorpusWriter.manifestRecords(root: workspace.appendingPathComponent("corpus").path, layout: .daily)
        #expect(records.count == 5)
        #expect(Set(records.map(\.record.feed)) == ["a", "b"])
        let verify = try CLITests.run(CLITests.binary, ["verify", "--config", path])
        #expect(verify.status == 0, "\(verify.stdout)")
    }
}
