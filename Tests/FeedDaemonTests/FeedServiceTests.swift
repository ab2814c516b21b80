import FeedConfig
import FeedDaemon
import Foundation
import Logging
import Pipeline
import ServiceLifecycle
import StateStore
import TestSupport
import Testing

/// The service in-process (no binary, no signals): a real loopback server, a real state file.
@Suite(.serialized) final class FeedServiceTests {
    let server: TestHTTPServer
    let workspace: URL
    let configPath: String

    init() throws {
        server = try TestHTTPServer()
        workspace = try TemporaryFolder.make(prefix: "daemon")
        configPath = workspace.appendingPathComponent("feedcorpus.yaml").path
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(at: workspace)
    }

    /// A config file with `feeds` (names that are also the feed files' names) polled at most hourly.
    func writeConfig(_ feeds: [String]) throws -> Configuration {
        var yaml = """
            corpus: corpus
            state: state/feedcorpus.sqlite
            fetch:
              host_delay: 0
            schedule:
              min_interval: 3600
            feeds:

            """
        for name in feeds {
            yaml += "  - url: \(server.url("files/\(name).xml"))\n    name: \(name)\n    fulltext: never\n"
        }
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        return try ConfigLoader.load(path: configPath)
    }

    func putFeed(_ name: String, guid: String) throws {
        try server.put("\(name).xml", FeedFixtures.rss(title: name, items: [
            .init(guid: guid, title: "Story \(guid) of \(name)", paragraphs: ["The body of story \(guid), published by \(name) today."]),
        ]))
    }

    func feedRequests(_ name: String) -> Int {
        server.requestedPaths().filter { $0.hasSuffix("/\(name).xml") }.count
    }

    /// Waits for `condition` (checked every 10 ms), at most `seconds`; the result says whether it
    /// held. The bound is generous: in the full parallel run other suites can hold both of this
    /// machine's cooperative threads for many seconds (processes waited for synchronously).
    func eventually(_ seconds: Double = 90, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    /// Runs `service` in a ServiceGroup, gives `body` the service, then shuts the group down
    /// gracefully and waits for it.
    func withRunningService(_ configuration: Configuration, settings: FeedService.Settings? = nil,
                            _ body: (FeedService) async throws -> Void) async throws {
        let service = FeedService(settings: settings ?? .init(configPath: configPath, trapSignals: false, passGap: .zero),
                                  configuration: configuration, logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        do {
            try await body(service)
        } catch {
            await group.triggerGracefulShutdown()
            _ = await running.result
            throw error
        }
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(service.health().status == "stopped")
        #expect(!service.health().healthy)
    }

    @Test func pollsOnceThenSleepsUntilTheNextFeedIsDue() async throws {
        try putFeed("a", guid: "1")
        let configuration = try writeConfig(["a"])
        try await withRunningService(configuration) { service in
            #expect(await eventually { service.progress.passes == 1 })
            #expect(service.progress.stored == 1)
            // Asleep, not ticking: the next wake-up is the longest sleep away (the feed is due in an hour).
            #expect(await eventually { service.sleepsFor.map { $0 > .seconds(50) } ?? false })
            let health = service.health()
            #expect(health.healthy && health.status == "ok")
            #expect(health.json.contains("\"passes\":1") && health.json.contains("\"stored_since_start\":1"), "\(health.json)")
            #expect(feedRequests("a") == 1)
        }
    }

    @Test func aScheduleChangeWakesTheServiceForTheFeedsMadeDue() async throws {
        try putFeed("a", guid: "1")
        let configuration = try writeConfig(["a"])
        try await withRunningService(configuration) { service in
            #expect(await eventually { service.progress.passes == 1 && service.sleepsFor != nil })
            // What `feedcorpus poll` does: the state says "due now", then the service is told.
            try putFeed("a", guid: "2")
            _ = try StateStore.openExisting(path: configuration.statePath).markDue(urls: nil, now: Date())
            service.scheduleChanged()
            #expect(await eventually { service.progress.passes == 2 })
            #expect(service.progress.stored == 2)
            #expect(feedRequests("a") == 2)
        }
    }

    @Test func aPollAllRequestPollsEveryFeedAtOnce() async throws {
        try putFeed("a", guid: "1")
        try putFeed("b", guid: "1")
        let configuration = try writeConfig(["a", "b"])
        try await withRunningService(configuration) { service in
            #expect(await eventually { service.progress.passes == 1 && service.sleepsFor != nil })
            service.requestPollAll()
            #expect(await eventually { service.progress.passes == 2 })
            #expect(feedRequests("a") == 2 && feedRequests("b") == 2)
        }
    }

    @Test func aReloadAddsAFeedThatIsPolledAtOnce() async throws {
        try putFeed("a", guid: "1")
        try putFeed("b", guid: "1")
        let configuration = try writeConfig(["a"])
        try await withRunningService(configuration) { service in
            #expect(await eventually { service.progress.passes == 1 && service.sleepsFor != nil })
            _ = try writeConfig(["a", "b"])
            service.requestReload()
            // The new feed was never polled, so it is due at once; the old one is not.
            #expect(await eventually { feedRequests("b") == 1 })
            #expect(await eventually { service.progress.passes == 2 })
            #expect(feedRequests("a") == 1)
            #expect(service.health().json.contains("\"feeds\":2"))
        }
    }

    @Test func aBadReloadIsRejectedAndTheServiceGoesOn() async throws {
        try putFeed("a", guid: "1")
        let configuration = try writeConfig(["a"])
        try await withRunningService(configuration) { service in
            #expect(await eventually { service.progress.passes == 1 && service.sleepsFor != nil })
            try "feeds: [".write(toFile: configPath, atomically: true, encoding: .utf8)
            service.requestReload()
            service.requestPollAll()
            #expect(await eventually { service.progress.passes == 2 })
            #expect(service.health().json.contains("\"feeds\":1"))
            #expect(feedRequests("a") == 2)
        }
    }

    @Test func shutdownDuringASlowPassCancelsItAfterTheGrace() async throws {
        try putFeed("a", guid: "1")
        // The second feed's server never answers; the grace is 0.2 s.
        var configuration = try writeConfig(["a"])
        configuration.feeds.append(FeedSource(url: server.url("hang"), name: "slow", fullText: .never))
        let started = ContinuousClock.now
        try await withRunningService(configuration, settings: .init(configPath: configPath, grace: .milliseconds(200), trapSignals: false)) { service in
            #expect(await eventually { server.requestedPaths().contains("/hang") })
        }
        // The server never answers (it holds the request for 120 s): only the grace ended the pass.
        #expect(ContinuousClock.now - started < .seconds(100))
    }
}
