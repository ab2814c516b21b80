import FeedConfig
import Foundation
import Testing

@Suite struct ConfigLoaderTests {
    let path = "/srv/feedcorpus/config/feedcorpus.yaml"

    func parse(_ yaml: String) throws(ConfigError) -> Configuration {
        try ConfigLoader.parse(yaml: yaml, path: path)
    }

    func error(_ yaml: String) -> ConfigError? {
        do {
            _ = try parse(yaml)
            return nil
        } catch {
            return error
        }
    }

    @Test func resolvesRelativePathsAgainstTheConfigFolder() throws {
        let config = try parse("""
            corpus: ../corpus
            state: state/feedcorpus.sqlite
            layout: flat
            fetch:
              user_agent: test-agent/1.0
              timeout: 30
              max_connections_per_host: 4
            feeds:
              - url: feeds/local.rss
              - url: https://news.example/rss.xml
                name: example
              - https://other.example/atom
            """)
        #expect(config.corpusDirectory == "/srv/feedcorpus/corpus")
        #expect(config.statePath == "/srv/feedcorpus/config/state/feedcorpus.sqlite")
        #expect(config.layout == .flat)
        #expect(config.fetch.userAgent == "test-agent/1.0")
        #expect(config.fetch.timeout == 30)
        #expect(config.fetch.maxConnectionsPerHost == 4)
        #expect(config.fetch.maxConnections == 64)  // default kept
        #expect(config.feeds == [
            FeedSource(url: "file:///srv/feedcorpus/config/feeds/local.rss", name: "local"),
            FeedSource(url: "https://news.example/rss.xml", name: "example"),
            FeedSource(url: "https://other.example/atom", name: "other.example/atom"),
        ])
    }

    @Test func metricsListenDefaultsToLoopbackAndTextfileResolves() throws {
        func metrics(_ value: String) throws -> MetricsSettings {
            try parse("metrics: \(value)\nfeeds: [https://a.example/rss]\n").metrics
        }
        #expect(try metrics("{listen: 9464}") == MetricsSettings(listenHost: "127.0.0.1", listenPort: 9464))
        #expect(try metrics("{listen: \"0.0.0.0:9100\"}") == MetricsSettings(listenHost: "0.0.0.0", listenPort: 9100))
        #expect(try metrics("{listen: \"[::1]:9464\"}") == MetricsSettings(listenHost: "::1", listenPort: 9464))
        #expect(try metrics("{textfile: prom/feedcorpus.prom}").textfile == "/srv/feedcorpus/config/prom/feedcorpus.prom")
        #expect(try parse("feeds: [https://a.example/rss]\n").metrics == MetricsSettings())
        let bad = error("feeds: [https://a.example/rss]\nmetrics:\n  listen: localhost\n")
        #expect(bad?.line == 3)
        #expect(bad?.description.contains("metrics.listen") == true)
        #expect(bad?.description.contains("HOST:PORT") == true)
        #expect(error("feeds: [https://a.example/rss]\nmetrics: {listen: 70000}\n") != nil)
        #expect(error("feeds: [https://a.example/rss]\nmetrics: {port: 1}\n")?.description.contains("port") == true)
    }

    @Test func defaultsApplyWhenOmitted() throws {
        let config = try parse("feeds: [{url: 'https://a.example/rss'}]")
        #expect(config.layout == .daily)
        #expect(config.corpusDirectory == "/srv/feedcorpus/config/corpus")
        #expect(config.fetch.userAgent.hasPrefix("feedcorpus/"))
        #expect(config.fetch.maxBodyBytes == 16 * 1024 * 1024)
    }

    @Test func unknownKeyNamesTheKeyAndLine() {
        let problem = error("""
            corpus: corpus
            layuot: daily
            feeds: []
            """)
        #expect(problem?.key == "layuot")
        #expect(problem?.line == 2)
        #expect(problem?.description.contains("feedcorpus.yaml:2: layuot: unknown key") == true)
    }

    @Test func badLayoutValueSaysWhatIsExpected() {
        let problem = error("""
            feeds: []
            layout: weekly
            """)
        #expect(problem?.key == "layout")
        #expect(problem?.line == 2)
        #expect(problem?.message.contains("daily, flat") == true)
    }

    @Test func missingFeedsIsAnError() {
        let problem = error("corpus: corpus\n")
        #expect(problem?.key == "feeds")
        #expect(problem?.message.contains("missing") == true)
    }

    @Test func feedsMustBeAList() {
        let problem = error("feeds: https://a.example/rss\n")
        #expect(problem?.key == "feeds")
        #expect(problem?.message.contains("list") == true)
    }

    @Test func feedWithoutURLNamesItsIndex() {
        let problem = error("""
            feeds:
              - url: https://a.example/rss
              - name: lonely
            """)
        #expect(problem?.key == "feeds[1]")
        #expect(problem?.line == 3)
    }

    @Test func duplicateFeedURLIsRejected() {
        let problem = error("""
            feeds:
              - url: https://a.example/rss
              - url: https://a.example/rss
            """)
        #expect(problem?.key == "feeds[1].url")
        #expect(problem?.message.contains("feeds[0]") == true)
    }

    @Test func duplicateFeedNameIsRejected() {
        let problem = error("""
            feeds:
              - {url: https://a.example/rss, name: news}
              - {url: https://b.example/rss, name: news}
            """)
        #expect(problem?.key == "feeds[1].name")
    }

    @Test func unsupportedSchemeIsRejected() {
        let problem = error("feeds:\n  - url: ftp://a.example/rss\n")
        #expect(problem?.key == "feeds[0].url")
        #expect(problem?.message.contains("ftp") == true)
    }

    @Test func outOfRangeNumberIsRejected() {
        let problem = error("""
            fetch:
              max_connections: 0
            feeds: []
            """)
        #expect(problem?.key == "fetch.max_connections")
        #expect(problem?.line == 2)
        #expect(problem?.message.contains("out of range") == true)
    }

    @Test func nonNumberIsRejected() {
        let problem = error("""
            fetch:
              timeout: soon
            feeds: []
            """)
        #expect(problem?.key == "fetch.timeout")
        #expect(problem?.message.contains("soon") == true)
    }

    @Test func invalidYAMLReportsTheLine() {
        let problem = error("""
            corpus: corpus
            feeds:
              - url: [unclosed
            """)
        #expect(problem != nil)
        #expect(problem?.message.hasPrefix("not valid YAML") == true)
        #expect(problem?.line != nil)
    }

    @Test func unreadableFileSaysSo() {
        do {
            _ = try ConfigLoader.load(path: "/nonexistent/feedcorpus.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.file == "/nonexistent/feedcorpus.yaml")
            #expect(error.message.contains("cannot read"))
        }
    }

    @Test func bundledDemoConfigLoads() throws {
        let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Config/demo.yaml")
        let config = try ConfigLoader.load(path: demo.path)
        #expect(config.feeds.count == 3)
        #expect(config.feeds.allSatisfy { $0.url.hasPrefix("file:///") })
        for feed in config.feeds {
            #expect(FileManager.default.fileExists(atPath: URL(string: feed.url)!.path), "\(feed.url)")
        }
    }

    @Test func aPostgresStateSelectsClusterModeAndAPathKeepsSQLite() throws {
        let cluster = try parse("state: postgres://corpus@db.internal/news\nfeeds: [https://a.example/rss]")
        #expect(cluster.clusterState == "postgres://corpus@db.internal/news")
        #expect(cluster.statePath.isEmpty)
        #expect(try parse("state: postgresql://db.internal/news\nfeeds: [https://a.example/rss]").clusterState == "postgresql://db.internal/news")
        let local = try parse("state: state/postgres.sqlite\nfeeds: [https://a.example/rss]")
        #expect(local.statePath.hasSuffix("state/postgres.sqlite"))
        #expect(local.clusterState == nil)
    }

    @Test func backfillIsOnByDefaultAndSetGloballyOrPerFeed() throws {
        let defaults = try parse("feeds: [https://a.example/rss]")
        #expect(defaults.backfill == BackfillSettings())
        #expect(defaults.backfill.enabled && !defaults.backfill.seed)
        let config = try parse("""
            backfill: {max_pages: 5, max_urls: 50, window_hours: 24, seed: true, max_pages_per_pass: 40, max_urls_per_pass: 300}
            feeds:
              - url: https://a.example/rss
              - url: https://b.example/rss
                backfill: false
              - url: https://c.example/rss
                backfill: {max_urls: 10}
            """)
        #expect(config.backfill == BackfillSettings(enabled: true, seed: true, maxPages: 5, maxURLs: 50, windowHours: 24))
        #expect(config.backfillPerPass == BackfillPassLimits(maxPages: 40, maxURLs: 300))
        #expect(config.backfill(for: config.feeds[0]) == config.backfill)
        #expect(config.backfill(for: config.feeds[1]).enabled == false)
        #expect(config.backfill(for: config.feeds[1]).maxPages == 5)
        // A feed's mapping starts from the global settings.
        #expect(config.backfill(for: config.feeds[2]) == BackfillSettings(enabled: true, seed: true, maxPages: 5, maxURLs: 10, windowHours: 24))
    }

    @Test func badBackfillSettingsNameTheKeyAndLine() throws {
        let hours = try #require(error("backfill: {window_hours: 0}\nfeeds: [https://a.example/rss]"))
        #expect(hours.key == "backfill.window_hours")
        #expect(hours.message.contains("hours between 1 and 8760"))
        let perFeed = try #require(error("feeds:\n  - url: https://a.example/rss\n    backfill: {max_pages_per_pass: 3}"))
        #expect(perFeed.key == "feeds[0].backfill.max_pages_per_pass")
        #expect(perFeed.line == 3)
        #expect(perFeed.message.contains("unknown key"))
        #expect(error("backfill: sometimes\nfeeds: [https://a.example/rss]")?.key == "backfill")
    }
}

@Suite struct ConfigOPMLTests {
    @Test func feedsComeFromTheOPMLFileToo() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("opml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("""
            <opml version="2.0"><body>
              <outline text="Tech"><outline title="Example" xmlUrl="https://a.example/rss"/></outline>
              <outline title="Dup" xmlUrl="https://b.example/rss"/>
            </body></opml>
            """.utf8).write(to: folder.appendingPathComponent("subs.opml"))
        let config = try ConfigLoader.parse(yaml: """
            opml: subs.opml
            feeds:
              - {url: "https://b.example/rss", name: bee}
            """, path: folder.appendingPathComponent("feedcorpus.yaml").path)
        #expect(config.feeds == [
            FeedSource(url: "https://b.example/rss", name: "bee"),
            FeedSource(url: "https://a.example/rss", name: "Example", category: "Tech"),
        ])
    }

    @Test func anOPMLFileMayAddOnlyWebFeeds() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("opml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for hostile in ["../../etc/hostname", "file:///etc/hostname", "/etc/hostname", "gopher://a.example/rss"] {
            try Data("""
                <opml version="2.0"><body><outline title="Fine" xmlUrl="https://a.example/rss"/><outline title="Local" xmlUrl="\(hostile)"/></body></opml>
                """.utf8).write(to: folder.appendingPathComponent("subs.opml"))
            do {
                let config = try ConfigLoader.parse(yaml: "opml: subs.opml\n", path: folder.appendingPathComponent("feedcorpus.yaml").path)
                Issue.record("\(hostile) was added as \(config.feeds.map(\.url))")
            } catch {
                #expect(error.description.contains("only http and https feeds"), "\(error)")
                #expect(error.description.contains("outline 2"), "\(error)")
            }
        }
    }

    @Test func missingOPMLFileIsAConfigError() {
        do {
            _ = try ConfigLoader.parse(yaml: "opml: nope.opml\n", path: "/tmp/feedcorpus.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "opml")
            #expect(error.line == 1)
        }
    }
}

@Suite struct AddressConfigTests {
    @Test func allowedAddressesAndPageSwitchesAreRead() throws {
        let config = try ConfigLoader.parse(yaml: """
            fetch:
              allowed_addresses: [10.0.0.5, 192.168.0.0/16, "fd00::/8"]
              proxy_article_pages: true
              local_pages: true
            feeds: [https://a.example/rss]
            """, path: "/tmp/feedcorpus.yaml")
        #expect(config.fetch.allowedAddresses == ["10.0.0.5", "192.168.0.0/16", "fd00::/8"])
        #expect(config.fetch.proxyArticlePages)
        #expect(config.fetch.localPages)
        #expect(!FetchSettings().localPages && !FetchSettings().proxyArticlePages && FetchSettings().allowedAddresses.isEmpty)
    }

    @Test(arguments: ["intranet.example", "10.0.0.0/33", "300.1.1.1"])
    func aBadAddressIsNamedWithItsLine(_ bad: String) {
        do {
            _ = try ConfigLoader.parse(yaml: "fetch:\n  allowed_addresses:\n    - 10.0.0.1\n    - \"\(bad)\"\nfeeds: [https://a.example/rss]\n", path: "/tmp/feedcorpus.yaml")
            Issue.record("\(bad) accepted")
        } catch {
            #expect(error.key == "fetch.allowed_addresses")
            #expect(error.line == 4)
            #expect(error.description.contains("not an IP address or CIDR range"))
        }
    }
}

@Suite struct DedupeConfigTests {
    @Test func dedupeSettingsAreRead() throws {
        let config = try ConfigLoader.parse(yaml: """
            dedupe:
              tracking_parameters: [utm_*, ref]
              near_duplicate_distance: 4
              near_duplicate_jaccard: 0.7
              near_duplicate_containment: 0.9
              near_duplicates: keep_longer
              event_window_hours: 24
              event_threshold: 0.3
            feeds: []
            """, path: "/tmp/c.yaml")
        #expect(config.dedupe.trackingParameters == ["utm_*", "ref"])
        #expect(config.dedupe.nearDuplicateDistance == 4)
        #expect(config.dedupe.nearDuplicateJaccard == 0.7)
        #expect(config.dedupe.nearDuplicateContainment == 0.9)
        #expect(config.dedupe.nearDuplicates == .keepLonger)
        #expect(config.dedupe.eventWindowHours == 24)
        #expect(config.dedupe.eventThreshold == 0.3)
    }

    @Test func aSimilarityThresholdTooLowToBeSafeIsRefused() {
        do {
            _ = try ConfigLoader.parse(yaml: "dedupe: {near_duplicate_jaccard: 0.1}\nfeeds: []\n", path: "/tmp/c.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "dedupe.near_duplicate_jaccard")
        }
    }

    @Test func badPolicyIsNamed() {
        do {
            _ = try ConfigLoader.parse(yaml: "dedupe: {near_duplicates: keep_all}\nfeeds: []\n", path: "/tmp/c.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "dedupe.near_duplicates")
            #expect(error.message.contains("keep_first or keep_longer"))
        }
    }
}
