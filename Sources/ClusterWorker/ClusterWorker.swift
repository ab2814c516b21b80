import ClusterState
import CoreMetrics
import FeedConfig
import FeedModel
import Fetcher
import Foundation
import Logging
import Pipeline
import Synchronization

/// How a worker claims and holds feeds.
public struct WorkerSettings: Sendable {
    /// This worker's name in leases (unique per process: host name, process id, a random part).
    public var id: String
    /// How long a claim lasts unless renewed; a dead worker's feeds are due again after it.
    public var lease: Duration
    /// Feeds polled at once (claims never exceed it).
    public var concurrency: Int
    /// Live leases per host across all workers.
    public var perHost: Int
    /// How long to wait before looking for due feeds again when none was due.
    public var idle: Duration
    /// Stop once no feed is due and no poll is in hand (a one-shot worker, for cron and tests).
    public var exitWhenIdle: Bool

    public init(id: String = WorkerSettings.defaultID(), lease: Duration = .seconds(120), concurrency: Int = 8, perHost: Int = 1,
                idle: Duration = .seconds(1), exitWhenIdle: Bool = false) {
        self.exitWhenIdle = exitWhenIdle
        self.id = id
        self.lease = lease
        self.concurrency = concurrency
        self.perHost = perHost
        self.idle = idle
    }

    /// `host:pid:random`.
    public static func defaultID() -> String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }
}

/// A cluster worker: registers the configured feeds, then claims due feeds from the shared state
/// (leases, at most `perHost` per host), polls each with the pipeline's code under its lease
/// (renewed while it runs; every request reserves its host's slot in the state), and stores each
/// poll's stories one at a time (`ClusterStoryStore`). Stops claiming when `stop` is asked, and
/// returns once the polls in hand are stored.
public struct ClusterWorker: Sendable {
    public let database: ClusterDatabase
    public let configuration: Configuration
    public let settings: WorkerSettings
    public let logger: Logger
    let metrics: PipelineMetrics?

    public init(database: ClusterDatabase, configuration: Configuration, settings: WorkerSettings, logger: Logger,
                metrics: PipelineMetrics? = nil) {
        self.database = database
        self.configuration = configuration
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
    }

    /// The feeds of the configuration as the state registers them (a local file's "host" is its
    /// URL: no politeness applies to it).
    public static func clusterFeeds(_ configuration: Configuration) -> [ClusterFeed] {
        configuration.feeds.map { feed in
            let host = HTTPClient.hostKey(for: feed.url)
            return ClusterFeed(url: feed.url, name: feed.name, host: host.isEmpty ? feed.url : host)
        }
    }

    /// What a worker did, for its final line.
    public struct Summary: Sendable {
        public var polls = 0
        public var stored = 0
        public var duplicates = 0
        public var failed = 0
        public var leasesLost = 0
        /// How long its claims took, and how long its store steps held the commit lock (seconds).
        public var claimTimes = DurationSummary()
        public var lockHolds = DurationSummary()
    }

    /// Runs until `shouldStop` says so (asked before each claim); `progress` gets each poll's
    /// report; `heartbeat` is called after each look at the state that worked (for /healthz).
    public func run(shouldStop: @escaping @Sendable () -> Bool, heartbeat: @escaping @Sendable () -> Void = {},
                    progress: @escaping @Sendable (FeedRunReport) -> Void = { _ in }) async throws -> Summary {
        try await database.migrate()
        try await database.register(Self.clusterFeeds(configuration))
        var store = try await ClusterStoryStore.open(database: database, dedupe: configuration.dedupe)
        logger.info("worker started", metadata: ["worker": "\(settings.id)", "stories_indexed": "\(store.position)"])
        // The gate spaces the requests of every worker (host_delay, through the state); the
        // engine must start a request as soon as the gate admits it, so it neither spaces nor
        // queues them again (a request queued after its slot would start next to a later one's).
        var clientSettings = IngestPass.clientSettings(configuration.fetch)
        clientSettings.hostDelay = 0
        clientSettings.maxConnections = max(clientSettings.maxConnections, 8 * settings.concurrency)
        clientSettings.maxConnectionsPerHost = max(clientSettings.maxConnectionsPerHost, 4 * settings.concurrency)
        let client = HTTPClient(settings: clientSettings, gate: ClusterHostGate(database: database, delay: configuration.fetch.hostDelay))
        defer { client.shutdown() }
        let poller = FeedPoller(configuration: configuration, logger: logger, client: client, robots: ClusterRobots(database: database))
        let feeds = Dictionary(configuration.feeds.map { ($0.url, $0) }, uniquingKeysWith: { first, _ in first })
        let counters = WorkerCounters()

        // Polls run concurrently; their stores go through one loop, one at a time.
        let (requests, requestSink) = AsyncStream.makeStream(of: StoreRequest.self)
        let storeLoop = Task {
            for await request in requests {
                do {
                    let stored = try await store.store(request.poll, under: request.lease)
                    if let held = stored.lockHeld {
                        counters.lockHold.recordNanoseconds(Self.nanoseconds(held))
                        counters.lockSample.add(held)
                    }
                    request.reply.resume(returning: .success(stored.report))
                } catch {
                    request.reply.resume(returning: .failure(error))
                }
            }
        }
        var summary = Summary()
        await withTaskGroup(of: FeedRunReport?.self) { group in
            var polling = 0
            var idleWait = false
            while true {
                if !shouldStop(), polling < settings.concurrency {
                    let started = ContinuousClock.now
                    let leases: [FeedLease]
                    do {
                        leases = try await database.claim(worker: settings.id, limit: settings.concurrency - polling,
                                                          perHost: settings.perHost, lease: settings.lease)
                        let took = ContinuousClock.now - started
                        counters.claimDuration.recordNanoseconds(Self.nanoseconds(took))
                        counters.claimSample.add(took)
                        heartbeat()
                    } catch {
                        logger.error("claiming feeds failed; trying again", metadata: ["error": "\(error)"])
                        leases = []
                    }
                    counters.claims.increment(by: leases.count)
                    for lease in leases {
                        polling += 1
                        let feed = feeds[lease.url] ?? FeedSource(url: lease.url, name: lease.name)
                        group.addTask {
                            await pollLeased(feed, lease: lease, poller: poller, requests: requestSink, counters: counters)
                        }
                    }
                    if leases.isEmpty, polling == 0, settings.exitWhenIdle {
                        group.cancelAll()
                        break
                    }
                    if leases.isEmpty, !idleWait {
                        // Nothing due (or every due host is busy): look again after the idle
                        // wait, or as soon as a poll in hand ends.
                        idleWait = true
                        group.addTask {
                            try? await Task.sleep(for: settings.idle)
                            return nil
                        }
                    }
                } else if polling == 0 {
                    group.cancelAll()
                    break
                }
                guard let finished = await group.next() else { break }
                guard let report = finished else {
                    idleWait = false
                    continue
                }
                polling -= 1
                summary.polls += 1
                summary.stored += report.stored
                summary.duplicates += report.duplicates
                if report.failed { summary.failed += 1 }
                metrics?.record(report)
                poller.log(report)
                progress(report)
            }
        }
        requestSink.finish()
        await storeLoop.value
        summary.leasesLost = counters.leasesLostCount
        summary.claimTimes = counters.claimSample.summary()
        summary.lockHolds = counters.lockSample.summary()
        logger.info("worker stopped", metadata: ["worker": "\(settings.id)", "polls": "\(summary.polls)", "stored": "\(summary.stored)"])
        return summary
    }

    /// One leased feed: polled under its lease (renewed every third of it), its stories stored
    /// through the store loop; a lost lease discards the poll.
    private func pollLeased(_ feed: FeedSource, lease: FeedLease, poller: FeedPoller,
                            requests: AsyncStream<StoreRequest>.Continuation, counters: WorkerCounters) async -> FeedRunReport {
        let state = ClusterPollState(database: database, lease: lease)
        let (database, duration, logger) = (self.database, settings.lease, self.logger)
        let renewal = Task {
            var current = lease
            while !Task.isCancelled {
                try? await Task.sleep(for: duration / 3)
                if Task.isCancelled { break }
                do {
                    current = try await database.renew(current, for: duration)
                } catch let error as ClusterStateError where error.kind == .leaseLost {
                    logger.warning("lease lost while polling; this poll's results will be discarded", metadata: ["feed": "\(lease.url)"])
                    return
                } catch {
                    logger.warning("renewing a lease failed; trying again", metadata: ["feed": "\(lease.url)", "error": "\(error)"])
                }
            }
        }
        defer { renewal.cancel() }
        switch await poller.poll(feed, state: state) {
        case let .finished(report):
            // Recorded (which ended the lease) or skipped without a record: give it back either way.
            try? await database.release(lease)
            return report
        case let .parsed(poll):
            let result = await withCheckedContinuation { continuation in
                requests.yield(StoreRequest(poll: poll, lease: lease, reply: continuation))
            }
            switch result {
            case let .success(report):
                return report
            case let .failure(error as ClusterStateError) where error.kind == .leaseLost:
                counters.leaseLost()
                var report = poll.report
                report.outcome = .failed("lease lost: \(error.message)")
                return report
            case let .failure(error):
                return await poller.failStoring(poll, error: error, state: state)
            }
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}

/// A parsed poll waiting for the worker's store loop, and where its outcome goes.
struct StoreRequest: Sendable {
    var poll: ParsedPoll
    var lease: FeedLease
    var reply: CheckedContinuation<Result<FeedRunReport, any Error>, Never>
}

/// The worker's own metrics (the polls' are `PipelineMetrics`').
final class WorkerCounters: Sendable {
    let claims = Counter(label: "feedcorpus_worker_claims_total")
    let leasesLost = Counter(label: "feedcorpus_worker_leases_lost_total")
    let claimDuration = CoreMetrics.Timer(label: "feedcorpus_worker_claim_duration_seconds")
    let lockHold = CoreMetrics.Timer(label: "feedcorpus_worker_commit_lock_hold_seconds")
    let claimSample = DurationSample()
    let lockSample = DurationSample()
    private let lost = Mutex(0)

    func leaseLost() {
        leasesLost.increment()
        lost.withLock { $0 += 1 }
    }

    var leasesLostCount: Int { lost.withLock { $0 } }
}

/// robots.txt answers shared through the cluster state (a day at most, as each process caches them).
struct ClusterRobots: SharedRobotsStore {
    let database: ClusterDatabase

    func robots(origin: String, maxAge: Double) async -> (status: Int, body: String)? {
        try? await database.cachedRobots(origin: origin, maxAge: maxAge)
    }

    func store(origin: String, status: Int, body: String) async {
        try? await database.storeRobots(origin: origin, status: status, body: body)
    }
}

/// Percentiles of a set of durations (seconds).
public struct DurationSummary: Sendable, Equatable {
    public var count = 0
    public var p50 = 0.0
    public var p99 = 0.0
    public var max = 0.0

    /// "p50 1.2 ms, p99 3.4 ms, max 5.6 ms (n 100)", or nil when there was none.
    public var line: String? {
        guard count > 0 else { return nil }
        func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
        return "p50 \(ms(p50)), p99 \(ms(p99)), max \(ms(max)) (n \(count))"
    }
}

/// A uniform sample (at most 100,000) of durations, for the percentiles a worker reports when it
/// stops (the metrics' histograms have coarse buckets).
final class DurationSample: Sendable {
    private let state = Mutex<(values: [Double], seen: Int, random: SystemRandomNumberGenerator)>(([], 0, SystemRandomNumberGenerator()))
    private static let capacity = 100_000

    func add(_ duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        state.withLock { state in
            state.seen += 1
            if state.values.count < Self.capacity {
                state.values.append(seconds)
            } else {
                let slot = Int.random(in: 0..<state.seen, using: &state.random)
                if slot < Self.capacity { state.values[slot] = seconds }
            }
        }
    }

    func summary() -> DurationSummary {
        let values = state.withLock { $0.values }.sorted()
        guard let last = values.last else { return DurationSummary() }
        func at(_ quantile: Double) -> Double { values[min(values.count - 1, Int((quantile * Double(values.count)).rounded(.up)) - 1)] }
        return DurationSummary(count: values.count, p50: at(0.5), p99: at(0.99), max: last)
    }
}
