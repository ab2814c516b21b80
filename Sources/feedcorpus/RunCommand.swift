import ArgumentParser
import FeedConfig
import FeedModel
import Foundation
import Logging
import MetricsEndpoint
import Pipeline
import ServiceLifecycle
import UnixSignals

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run as a service: poll each feed on its own schedule until SIGTERM or SIGINT.",
        discussion: """
            SIGTERM/SIGINT: no new feed is started; work in flight may finish within --grace \
            seconds, then it is abandoned (no partial file is ever left); exit 0. SIGHUP: the \
            config is read again (feeds added, removed, changed); a bad config is logged and the \
            old one kept. Under systemd (Type=notify) it reports READY, STATUS, RELOADING, \
            STOPPING and pings the watchdog. With `metrics: {listen: ...}` it serves Prometheus text \
            at /metrics and a health check at /healthz. Exit 75 if the state is locked by another \
            feedcorpus; 2 for a bad config or a metrics address it cannot listen on.
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: "Seconds that work in flight may take to finish after SIGTERM.")
    var grace: Double = 10

    func run() async throws {
        let logger = options.bootstrapLogging()
        let configuration = try options.loadConfiguration()
        let metrics = MetricsSetup.make(configuration.metrics)
        let service = FeedService(configPath: options.config, configuration: configuration, logger: logger,
                                  grace: .milliseconds(Int64(grace * 1000)), metrics: metrics)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if let metrics, let port = configuration.metrics.listenPort {
            let endpoint = MetricsEndpoint(host: configuration.metrics.listenHost ?? "127.0.0.1", port: port, exposition: { metrics.exposition() },
                                           logger: logger, health: { service.health() })
            services.append(.init(service: endpoint))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as PassError {
            FileHandle.standardError.write(Data("feedcorpus: \(error.description)\n".utf8))
            throw ExitCode(ExitStatus.of(error))
        } catch let error as MetricsEndpointError {
            FileHandle.standardError.write(Data("feedcorpus: \(error.description)\n".utf8))
            throw ExitCode(ExitStatus.usageOrConfig)
        }
    }
}

/// The long-running service: one session (lock, state, corpus, HTTP client) for its whole life,
/// a loop that starts a pass over the due feeds whenever one is due, and signal handling.
final class FeedService: Service, @unchecked Sendable {
    private let configPath: String
    private let logger: Logger
    private let grace: Duration
    private let notifier = SystemdNotifier()
    private let lock = NSLock()
    private var configuration: Configuration
    private var stopping = false
    private var reloadRequested = false
    private var pollRequested = false
    private var finishedPass: PassSummary?
    private let metrics: MetricsSetup?
    // What /healthz reports.
    private var sessionOpen = false
    private var lastTick: ContinuousClock.Instant?
    private var lastPass: (finished: Date, summary: PassSummary)?
    private var passes = 0
    private var storedSinceStart = 0

    init(configPath: String, configuration: Configuration, logger: Logger, grace: Duration, metrics: MetricsSetup? = nil) {
        self.metrics = metrics
        self.configPath = configPath
        self.configuration = configuration
        self.logger = logger
        self.grace = grace
    }

    private func withLock<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    func run() async throws {
        let initial = withLock { configuration }
        let session = try await IngestSession.open(configuration: initial, logger: logger, clock: { Date() })
        defer {
            withLock { sessionOpen = false }
            session.close()
        }
        withLock { sessionOpen = true }
        // Right from the first scrape, not only after the first pass.
        metrics?.pipeline.recordFeedStates(await session.feedStates(initial.feeds))
        if initial.feeds.isEmpty {
            logger.warning("THE CONFIG LISTS NO FEEDS: nothing will be polled. Add feeds under `feeds:` (feedcorpus add URL finds a site's feed), then systemctl reload feedcorpus",
                           metadata: ["config": "\(configPath)"])
        }
        notifier.ready(status: initial.feeds.isEmpty ? "started with NO FEEDS configured: add some to \(configPath) and reload" : "started: \(initial.feeds.count) feeds")
        logger.notice("feedcorpus service started", metadata: ["feeds": "\(initial.feeds.count)", "state": "\(initial.statePath)"])

        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { [self] in
                    for await _ in await UnixSignalsSequence(trapping: .sighup) {
                        withLock { reloadRequested = true }
                    }
                }
                group.addTask { [self] in
                    // SIGUSR1: poll every feed now (`feedcorpus poll` does it per feed through the state).
                    for await _ in await UnixSignalsSequence(trapping: .sigusr1) {
                        withLock { pollRequested = true }
                    }
                }
                try await mainLoop(session: session)
                group.cancelAll()
            }
        } onGracefulShutdown: { [self] in
            withLock { stopping = true }
            notifier.stopping()
            logger.notice("stopping: no new feeds are started; work in flight may finish", metadata: ["grace_seconds": "\(grace)"])
        }
        logger.notice("feedcorpus service stopped")
    }

    private func mainLoop(session: IngestSession) async throws {
        var pass: Task<PassSummary, Never>?
        var lastPing = ContinuousClock.now
        var stopRequestedAt: ContinuousClock.Instant?
        while true {
            let (stop, reload, pollAll) = withLock { () -> (Bool, Bool, Bool) in
                defer {
                    reloadRequested = false
                    pollRequested = false
                }
                return (stopping, reloadRequested, pollRequested)
            }
            if Task.isCancelled {
                // Cancelled (another service of the group failed): no grace, abandon the pass.
                pass?.cancel()
                _ = await pass?.value
                return
            }
            if stop {
                let started = stopRequestedAt ?? ContinuousClock.now
                stopRequestedAt = started
                guard let running = pass, withLock({ finishedPass == nil }) else { return }
                if ContinuousClock.now - started > grace {
                    running.cancel()  // Transfers are abandoned; stories are stored whole or not at all.
                    _ = await running.value
                    return
                }
            }
            if reload { await self.reload(session: session) }
            if pollAll && !stop {
                let marked = (try? await session.pollNow(nil)) ?? 0
                logger.notice("SIGUSR1: every feed is due now", metadata: ["feeds": "\(marked)", "pass_running": "\(pass != nil)"])
            }
            withLock { lastTick = ContinuousClock.now }
            if let watchdog = notifier.watchdogInterval, ContinuousClock.now - lastPing >= .milliseconds(Int64(watchdog * 500)) {
                notifier.watchdog()  // The loop is alive: it ticks once a second.
                lastPing = ContinuousClock.now
            }
            if pass != nil, let summary = withLock({ () -> PassSummary? in
                defer { finishedPass = nil }
                return finishedPass
            }) {
                pass = nil
                let totalStored = withLock {
                    lastPass = (Date(), summary)
                    passes += 1
                    storedSinceStart += summary.stored
                    return storedSinceStart
                }
                metrics?.writeTextfile(logger: logger)
                let line = "\(summary.feedsOK) ok, \(summary.feedsFailed) failed, \(summary.stored) stored this pass; \(totalStored) since start"
                notifier.status(line)
                logger.info("pass finished", metadata: ["summary": "\(line)"])
            }
            if pass == nil && !stop {
                let configuration = withLock { self.configuration }
                let due = await session.nextDue(configuration.feeds)
                if due == nil || due! <= Date() {
                    let logger = self.logger
                    pass = Task { [self] in
                        let ingestPass = IngestPass(configuration: configuration, logger: logger, metrics: metrics?.pipeline)
                        let summary = await ingestPass.run(in: session, shouldStart: { [self] in
                            !withLock { stopping }
                        })
                        await ingestPass.runHook(after: summary)
                        withLock { finishedPass = summary }
                        return summary
                    }
                }
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Healthy while the state is open and the main loop ticks (it does once a second, passes or
    /// not); the body says what the last pass did.
    func health() -> HealthReport {
        withLock {
            let alive = lastTick.map { ContinuousClock.now - $0 < .seconds(30) } ?? false
            let status = !sessionOpen ? (lastTick == nil ? "starting" : "stopped") : alive ? "ok" : "stalled"
            let object: [String: Any] = [
                "status": status,
                "passes": passes,
                "last_pass_finished": lastPass.map { ISO8601.string($0.finished) } ?? NSNull(),
                "last_pass_feeds_failed": lastPass?.summary.feedsFailed ?? 0,
                "last_pass_stored": lastPass?.summary.stored ?? 0,
                "stored_since_start": storedSinceStart,
                "feeds": configuration.feeds.count,
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            return HealthReport(healthy: sessionOpen && alive, json: String(decoding: data, as: UTF8.self))
        }
    }

    private func reload(session: IngestSession) async {
        notifier.reloading()
        let current = withLock { configuration }
        do {
            var next = try ConfigLoader.load(path: configPath)
            if next.statePath != current.statePath || next.corpusDirectory != current.corpusDirectory || next.layout != current.layout {
                logger.warning("corpus, layout and state changes need a restart; the old ones stay in use until then")
                next.statePath = current.statePath
                next.corpusDirectory = current.corpusDirectory
                next.layout = current.layout
            }
            let added = Set(next.feeds.map(\.url)).subtracting(current.feeds.map(\.url))
            let removed = Set(current.feeds.map(\.url)).subtracting(next.feeds.map(\.url))
            withLock { configuration = next }
            // New interval bounds apply to feeds already scheduled, not only from their next poll.
            let advanced = (try? await session.applyIntervalBounds(next, now: Date())) ?? 0
            logger.notice("configuration reloaded", metadata: [
                "feeds": "\(next.feeds.count)", "added": "\(added.count)", "removed": "\(removed.count)", "polls_brought_forward": "\(advanced)"])
            notifier.ready(status: "reloaded: \(next.feeds.count) feeds")
        } catch {
            logger.error("the new configuration is not valid; keeping the old one", metadata: ["error": "\(error.description)"])
            notifier.ready(status: "reload failed; running with the old configuration")
        }
    }
}
