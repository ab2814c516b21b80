import ArgumentParser
import ClusterState
import ClusterWorker
import FeedConfig
import FeedModel
import Foundation
import Logging
import MetricsEndpoint
import Pipeline
import UnixSignals

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Cluster mode: poll due feeds from the shared state, with other workers on other machines (a service; --exit-when-idle stops when nothing is due).",
        discussion: """
            Needs `state: postgres://…` in the config. Registers the config's feeds in the shared state, then claims \
            due feeds (a lease each, at most --per-host live leases per host across all workers), polls them with \
            the same code as `run`, and commits each poll's stories to the state (one at a time across the cluster, \
            so dedupe decides as on one machine). It writes no corpus folder: `feedcorpus materialize` does. Every \
            request reserves its host's slot in the state, so fetch.host_delay holds across workers. A worker that \
            dies leaves its feeds to the others when their leases expire (--lease). SIGTERM or SIGINT: claims \
            nothing more, finishes the polls in hand. Exit status: 0 stopped (or idle with --exit-when-idle), \
            1 some polls failed (with --exit-when-idle), 2 usage or config error, or the state cannot be reached.
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: "Seconds a claimed feed stays this worker's unless renewed (renewed every third of it while polling); a dead worker's feeds are polled again after it.")
    var lease: Double = 120

    @Option(help: "Feeds polled at once (default: fetch.max_connections).")
    var concurrency: Int?

    @Option(help: "Live leases per host across all workers.")
    var perHost: Int = 1

    @Option(help: "This worker's name in leases (default: host:pid:random).")
    var id: String?

    @Option(help: "Seconds between looks for due feeds when none was due.")
    var idle: Double = 1

    @Flag(help: "Stop once no feed is due and no poll is in hand.")
    var exitWhenIdle = false

    @Flag(name: .shortAndLong, help: "Print only failures and the final line.")
    var quiet = false

    func validate() throws {
        guard lease >= 1, lease <= 86_400 else { throw ValidationError("--lease must be 1 to 86400 seconds") }
        guard (1...1_000).contains(concurrency ?? 1) else { throw ValidationError("--concurrency must be 1 to 1000") }
        guard (1...1_000).contains(perHost) else { throw ValidationError("--per-host must be 1 to 1000") }
        guard idle > 0, idle <= 600 else { throw ValidationError("--idle must be more than 0 and at most 600 seconds") }
    }

    func run() async throws {
        let logger = options.bootstrapLogging()
        let (configuration, url) = try options.loadClusterConfiguration(command: "worker", withSQLite: "use `run` or `fetch`")
        let concurrency = concurrency ?? max(1, configuration.fetch.maxConnections)
        let settings = WorkerSettings(id: id ?? WorkerSettings.defaultID(), lease: .milliseconds(Int64(lease * 1000)), concurrency: concurrency,
                                      perHost: perHost, idle: .milliseconds(Int64(idle * 1000)), exitWhenIdle: exitWhenIdle)
        // Polls in hand each use a connection now and then; the store loop and claims one each.
        let database = ClusterDatabase(url: url, logger: logger, maxConnections: min(32, concurrency + 2))
        let metrics = MetricsSetup.make(configuration.metrics)
        let stop = StopRequest()
        let listenFailed = StopRequest()
        let quiet = self.quiet
        let health = WorkerHealth(idle: idle)
        let worker = ClusterWorker(database: database, configuration: configuration, settings: settings, logger: logger, metrics: metrics?.pipeline)
        let outcome: Result<ClusterWorker.Summary, any Error> = await withTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            let work = Task { () -> Result<ClusterWorker.Summary, any Error> in
                do {
                    return .success(try await worker.run(shouldStop: { stop.requested }, heartbeat: { health.looked() }) { report in
                        if !quiet || report.failed { print(FetchCommand.line(for: report)) }
                        metrics?.writeTextfile(logger: logger)
                    })
                } catch {
                    return .failure(error)
                }
            }
            if let metrics {
                group.addTask {
                    if await !metrics.serve(logger: logger, health: { health.report() }) {
                        listenFailed.request()
                        stop.request()
                    }
                }
            }
            group.addTask {
                for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                    stop.request()
                    logger.notice("stopping: no more claims; the polls in hand are finished", metadata: ["signal": "\(signal)"])
                    break
                }
            }
            let outcome = await work.value
            group.cancelAll()
            return outcome
        }
        metrics?.writeTextfile(logger: logger)
        switch outcome {
        case let .failure(error):
            FileHandle.standardError.write(Data("feedcorpus: \(error)\n".utf8))
            throw ExitCode(ExitStatus.usageOrConfig)
        case let .success(summary):
            print("worker \(settings.id): \(FetchCommand.plural(summary.polls, "poll", "polls")), "
                  + "\(FetchCommand.plural(summary.stored, "story", "stories")) stored, \(summary.duplicates) duplicate(s) dropped, "
                  + "\(summary.failed) failed, \(summary.leasesLost) lease(s) lost" + (stop.requested ? " (stopped)" : ""))
            if !quiet || summary.claimTimes.count > 0 {
                print("worker \(settings.id): claims " + (summary.claimTimes.line ?? "none") + "; commit lock held " + (summary.lockHolds.line ?? "never"))
            }
            if listenFailed.requested { throw ExitCode(ExitStatus.usageOrConfig) }
            if exitWhenIdle, summary.failed > 0 { throw ExitCode(ExitStatus.someFeedsFailed) }
        }
    }
}

/// What a worker's /healthz says: healthy while its looks at the shared state (claims) work,
/// the last no longer ago than two minutes (or ten idle waits).
final class WorkerHealth: @unchecked Sendable {
    private let lock = NSLock()
    private let allowed: TimeInterval
    private var last: Date?

    init(idle: Double) {
        allowed = max(120, 10 * idle)
    }

    func looked() {
        lock.withLock { last = Date() }
    }

    func report() -> HealthReport {
        let last = lock.withLock { self.last }
        guard let last else { return HealthReport(healthy: false, json: #"{"status":"starting"}"#) }
        let healthy = Date().timeIntervalSince(last) <= allowed
        return HealthReport(healthy: healthy, json: #"{"status":"\#(healthy ? "ok" : "stalled")","last_claim_at":"\#(ISO8601.string(last))"}"#)
    }
}
