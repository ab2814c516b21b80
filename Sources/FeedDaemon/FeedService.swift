import FeedConfig
import FeedModel
import Foundation
import Logging
import Pipeline
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The long-running service behind `feedcorpus run`: one session (locks, state, corpus, HTTP
/// client) for its whole life, a loop that starts a pass whenever a feed is due and otherwise
/// sleeps until the next one is, and the signals an operator sends.
///
/// - SIGHUP: the configuration is read again (a bad one is logged and the old one kept).
/// - SIGUSR1: every feed is due now.
/// - SIGUSR2: the schedule in the state changed (`feedcorpus poll` / `enable` send it): look again.
/// - Graceful shutdown (SIGTERM/SIGINT through the `ServiceGroup`): no new pass; the pass in
///   flight may finish within `grace`, then it is cancelled (stories are stored whole or not at all).
///
/// The same requests are methods (`requestReload()`, `requestPollAll()`, `scheduleChanged()`),
/// so the service can be driven without signals, as the tests do.
public final class FeedService: Service, Sendable {
    /// How the service is set up; the defaults are those of `feedcorpus run`.
    public struct Settings: Sendable {
        /// The configuration file read again on reload.
        public var configPath: String
        /// How long a pass in flight may take to finish after a shutdown request.
        public var grace: Duration
        /// Install the SIGHUP / SIGUSR1 / SIGUSR2 handlers (off in tests that run in-process).
        public var trapSignals: Bool
        /// The longest the loop sleeps even when no feed is due sooner: it bounds the effect of a
        /// wall-clock change on the wall-clock due times and of a schedule change made without
        /// the SIGUSR2 (`poll` run by a user who may not signal the service).
        public var longestSleep: Duration
        /// The shortest gap between the end of a pass and the start of the next.
        public var passGap: Duration

        public init(configPath: String, grace: Duration = .seconds(10), trapSignals: Bool = true,
                    longestSleep: Duration = .seconds(60), passGap: Duration = .seconds(1)) {
            self.configPath = configPath
            self.grace = grace
            self.trapSignals = trapSignals
            self.longestSleep = longestSleep
            self.passGap = passGap
        }
    }

    private struct State {
        var configuration: Configuration
        var stopping = false
        var reloadRequested = false
        var pollAllRequested = false
        var finishedPass: PassSummary?
        var sessionOpen = false
        /// When the loop last woke (nil: it has not started), and until when it then went to
        /// sleep (nil while awake).
        var lastWake: ContinuousClock.Instant?
        var sleepingUntil: ContinuousClock.Instant?
        var lastPass: (finished: Date, summary: PassSummary)?
        var passes = 0
        var storedSinceStart = 0
    }

    private let settings: Settings
    private let logger: Logger
    private let notifier: SystemdNotifier
    private let metrics: PipelineMetrics?
    private let afterPass: @Sendable (PassSummary) -> Void
    private let state: Mutex<State>
    /// Wakes the main loop; buffered to one element, as one wake-up covers any number of requests.
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// `afterPass` runs after each pass's hook (the metrics textfile is written there).
    public init(settings: Settings, configuration: Configuration, logger: Logger, metrics: PipelineMetrics? = nil,
                notifier: SystemdNotifier = SystemdNotifier(), afterPass: @escaping @Sendable (PassSummary) -> Void = { _ in }) {
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
        self.notifier = notifier
        self.afterPass = afterPass
        state = Mutex(State(configuration: configuration))
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Read the configuration file again (what SIGHUP does).
    public func requestReload() {
        state.withLock { $0.reloadRequested = true }
        wake.yield()
    }

    /// Make every feed due now (what SIGUSR1 does).
    public func requestPollAll() {
        state.withLock { $0.pollAllRequested = true }
        wake.yield()
    }

    /// The schedule in the state changed outside the service (what SIGUSR2 does): look again.
    public func scheduleChanged() {
        wake.yield()
    }

    /// The passes finished since start and the stories they stored.
    public var progress: (passes: Int, stored: Int) {
        state.withLock { ($0.passes, $0.storedSinceStart) }
    }

    public func run() async throws {
        let initial = state.withLock { $0.configuration }
        let session = try await IngestSession.open(configuration: initial, logger: logger, clock: { Date() })
        defer {
            state.withLock { $0.sessionOpen = false }
            session.close()
        }
        state.withLock { $0.sessionOpen = true }
        // Right from the first scrape, not only after the first pass.
        metrics?.recordFeedStates(await session.feedStates(initial.feeds))
        if initial.feeds.isEmpty {
            logger.warning("THE CONFIG LISTS NO FEEDS: nothing will be polled. Add feeds under `feeds:` (feedcorpus add URL finds a site's feed), then systemctl reload feedcorpus",
                           metadata: ["config": "\(settings.configPath)"])
        }
        notifier.ready(status: initial.feeds.isEmpty ? "started with NO FEEDS configured: add some to \(settings.configPath) and reload" : "started: \(initial.feeds.count) feeds")
        logger.notice("feedcorpus service started", metadata: ["feeds": "\(initial.feeds.count)", "state": "\(initial.statePath)"])

        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                if settings.trapSignals {
                    group.addTask { [self] in
                        for await _ in await UnixSignalsSequence(trapping: .sighup) { requestReload() }
                    }
                    group.addTask { [self] in
                        for await _ in await UnixSignalsSequence(trapping: .sigusr1) { requestPollAll() }
                    }
                    group.addTask { [self] in
                        for await _ in await UnixSignalsSequence(trapping: .sigusr2) { scheduleChanged() }
                    }
                }
                try await mainLoop(session: session)
                group.cancelAll()
            }
        } onGracefulShutdown: { [self] in
            state.withLock { $0.stopping = true }
            wake.yield()
            notifier.stopping()
            logger.notice("stopping: no new feeds are started; work in flight may finish", metadata: ["grace_seconds": "\(settings.grace)"])
        }
        logger.notice("feedcorpus service stopped")
    }

    /// Wakes on a request, at the end of a pass, when the next feed is due, for the watchdog and
    /// for the end of the grace period; never on a fixed tick.
    private func mainLoop(session: IngestSession) async throws {
        var pass: Task<Void, Never>?
        var lastPing = ContinuousClock.now
        var lastPassEnded: ContinuousClock.Instant?
        var stopRequestedAt: ContinuousClock.Instant?
        var wakeups = self.wakeups.makeAsyncIterator()
        while true {
            let now = ContinuousClock.now
            let (stop, reload, pollAll) = state.withLock { state -> (Bool, Bool, Bool) in
                defer {
                    state.reloadRequested = false
                    state.pollAllRequested = false
                }
                state.lastWake = now
                state.sleepingUntil = nil
                return (state.stopping, state.reloadRequested, state.pollAllRequested)
            }
            if Task.isCancelled {
                // Cancelled (another service of the group failed): no grace, abandon the pass.
                pass?.cancel()
                await pass?.value
                return
            }
            var deadlines: [ContinuousClock.Instant] = [now + settings.longestSleep]
            if let summary = state.withLock({ state -> PassSummary? in
                defer { state.finishedPass = nil }
                return state.finishedPass
            }) {
                pass = nil
                lastPassEnded = now
                record(summary)
            }
            if stop {
                let started = stopRequestedAt ?? now
                stopRequestedAt = started
                guard let running = pass else { return }
                if now - started >= settings.grace {
                    running.cancel()  // Transfers are abandoned; stories are stored whole or not at all.
                    await running.value
                    return
                }
                deadlines.append(started + settings.grace)
            }
            if reload { await self.reload(session: session) }
            if pollAll && !stop {
                let marked = (try? await session.pollNow(nil)) ?? 0
                logger.notice("SIGUSR1: every feed is due now", metadata: ["feeds": "\(marked)", "pass_running": "\(pass != nil)"])
            }
            if let interval = notifier.watchdogInterval {
                let every = Duration.milliseconds(Int64(interval * 500))
                if now - lastPing >= every {
                    notifier.watchdog()
                    lastPing = now
                }
                deadlines.append(lastPing + every)
            }
            if pass == nil && !stop {
                let configuration = state.withLock { $0.configuration }
                let due = await session.nextDue(configuration.feeds)
                var startAt = lastPassEnded.map { $0 + settings.passGap } ?? now
                if let wait = due?.timeIntervalSinceNow, wait > 0 {
                    startAt = max(startAt, now + .seconds(min(wait, 1e9)))  // nil: a feed was never polled
                }
                if startAt <= now {
                    pass = startPass(configuration: configuration, session: session)
                } else {
                    deadlines.append(startAt)
                }
            }
            let deadline = deadlines.min() ?? now + settings.longestSleep
            state.withLock { $0.sleepingUntil = deadline }
            let timer = Task { [wake] in
                try? await Task.sleep(until: deadline, clock: .continuous)
                wake.yield()
            }
            _ = await wakeups.next()
            timer.cancel()
        }
    }

    private func startPass(configuration: Configuration, session: IngestSession) -> Task<Void, Never> {
        let (logger, metrics, wake) = (self.logger, self.metrics, self.wake)
        return Task { [self] in
            let ingestPass = IngestPass(configuration: configuration, logger: logger, metrics: metrics)
            let summary = await ingestPass.run(in: session, shouldStart: { [self] in
                !state.withLock { $0.stopping }
            })
            await ingestPass.runHook(after: summary)
            afterPass(summary)
            state.withLock { $0.finishedPass = summary }
            wake.yield()
        }
    }

    private func record(_ summary: PassSummary) {
        let totalStored = state.withLock { state in
            state.lastPass = (Date(), summary)
            state.passes += 1
            state.storedSinceStart += summary.stored
            return state.storedSinceStart
        }
        let line = "\(summary.feedsOK) ok, \(summary.feedsFailed) failed, \(summary.stored) stored this pass; \(totalStored) since start"
        notifier.status(line)
        logger.info("pass finished", metadata: ["summary": "\(line)"])
    }

    /// How long until the loop's next wake-up while it sleeps; nil while it works.
    public var sleepsFor: Duration? {
        state.withLock { $0.sleepingUntil.map { $0 - ContinuousClock.now } }
    }

    /// Healthy while the session is open and the loop is awake or asleep for a known reason (it
    /// counts as stalled 30 s after a wake-up it missed); the body says what the last pass did.
    public func health() -> ServiceHealth {
        state.withLock { state in
            let now = ContinuousClock.now
            let alive: Bool
            if let until = state.sleepingUntil {
                alive = now - until < .seconds(30)
            } else {
                alive = state.lastWake.map { now - $0 < .seconds(30) } ?? false
            }
            let status = !state.sessionOpen ? (state.lastWake == nil ? "starting" : "stopped") : alive ? "ok" : "stalled"
            let object: [String: Any] = [
                "status": status,
                "passes": state.passes,
                "last_pass_finished": state.lastPass.map { ISO8601.string($0.finished) } ?? NSNull(),
                "last_pass_feeds_failed": state.lastPass?.summary.feedsFailed ?? 0,
                "last_pass_stored": state.lastPass?.summary.stored ?? 0,
                "stored_since_start": state.storedSinceStart,
                "feeds": state.configuration.feeds.count,
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            return ServiceHealth(healthy: state.sessionOpen && alive, status: status, json: String(decoding: data, as: UTF8.self))
        }
    }

    private func reload(session: IngestSession) async {
        notifier.reloading()
        let current = state.withLock { $0.configuration }
        do {
            var next = try ConfigLoader.load(path: settings.configPath)
            if next.statePath != current.statePath || next.corpusDirectory != current.corpusDirectory || next.layout != current.layout {
                logger.warning("corpus, layout and state changes need a restart; the old ones stay in use until then")
                next.statePath = current.statePath
                next.corpusDirectory = current.corpusDirectory
                next.layout = current.layout
            }
            let added = Set(next.feeds.map(\.url)).subtracting(current.feeds.map(\.url))
            let removed = Set(current.feeds.map(\.url)).subtracting(next.feeds.map(\.url))
            state.withLock { [next] in $0.configuration = next }
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

/// What the service says of its health (served at /healthz by the metrics listener).
public struct ServiceHealth: Sendable {
    public var healthy: Bool
    /// "starting", "ok", "stalled" or "stopped".
    public var status: String
    /// A JSON object with the status and what the last pass did.
    public var json: String
}
