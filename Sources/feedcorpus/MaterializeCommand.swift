import ArgumentParser
import ClusterState
import CorpusWriter
import FeedConfig
import FeedModel
import Foundation
import Logging
import Materializer
import Metrics
import MetricsEndpoint
import Pipeline
import StateStore
import UnixSignals

struct MaterializeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "materialize",
        abstract: "Cluster mode: write this machine's copy of the corpus folder from the shared state (a service; --once catches up and exits).",
        discussion: """
            Needs `state: postgres://…` in the config. Writes every committed story, in commit order, into the \
            config's corpus folder with the same layout, names and manifests as a single machine; runs \
            on_new_stories after each batch that wrote files; records the copy's position in the folder and in \
            the state (a text is removed from the state once every registered copy has it). One materializer per \
            folder; two copies are byte-identical. SIGTERM or SIGINT: stops after the batch in hand. \
            Exit status: 0 up to date (--once) or stopped by a signal, 1 a batch or on_new_stories failed (--once), \
            2 usage or config error (a metrics address it cannot listen on too), 75 another feedcorpus holds the corpus folder's lock.
            """)

    @OptionGroup var options: CommonOptions

    @Flag(help: "Catch up with the state, then exit.")
    var once = false

    @Option(help: "Seconds between looks at the state once up to date (and after a failed batch).")
    var interval: Double = 2

    @Option(help: "Stories read and written per batch.")
    var batch: Int = 500

    @Flag(name: .shortAndLong, help: "Print only failures and the final line.")
    var quiet = false

    func validate() throws {
        guard interval > 0, interval <= 3600 else { throw ValidationError("--interval must be more than 0 and at most 3600 seconds") }
        guard (1...100_000).contains(batch) else { throw ValidationError("--batch must be 1 to 100000") }
    }

    func run() async throws {
        let logger = options.bootstrapLogging()
        let (configuration, url) = try options.loadClusterConfiguration(command: "materialize", withSQLite: "`fetch` and `run` write the corpus themselves")
        let lock: StateLock
        do {
            lock = try StateLock(lockFile: configuration.corpusDirectory + "/" + CorpusWriter.lockFileName, guarding: "corpus")
        } catch let busy as StateLock.Busy {
            FileHandle.standardError.write(Data("feedcorpus: \(busy.description)\n".utf8))
            throw ExitCode(ExitStatus.locked)
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(error)\n".utf8))
            throw ExitCode(ExitStatus.usageOrConfig)
        }
        let database = ClusterDatabase(url: url, logger: logger, maxConnections: 2)
        let stop = StopRequest()
        let metrics = MetricsSetup.make(configuration.metrics)
        let health = MaterializerHealth(interval: interval)
        let listenFailed = StopRequest()  // set when the metrics address cannot be listened on
        let (once, quiet, interval, batchSize) = (self.once, self.quiet, self.interval, self.batch)
        let failed: Bool = await withTaskGroup(of: Bool?.self) { group in
            group.addTask {
                await database.run()
                return nil
            }
            let work = Task { () -> Bool in
                await Self.materialize(database: database, configuration: configuration, logger: logger, once: once,
                                       quiet: quiet, interval: interval, batchSize: batchSize, stop: stop, metrics: metrics, health: health)
            }
            if let metrics {
                group.addTask {
                    if await !metrics.serve(logger: logger, health: { health.report() }) {
                        listenFailed.request()
                        stop.request()
                        work.cancel()
                    }
                    return nil
                }
            }
            group.addTask {
                for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                    stop.request()
                    logger.notice("stopping: a batch in hand is finished, or left to the next start", metadata: ["signal": "\(signal)"])
                    work.cancel()  // wakes the wait between looks; a batch in hand is finished
                    break
                }
                return nil
            }
            let failed = await work.value
            group.cancelAll()
            return failed
        }
        withExtendedLifetime(lock) {}
        if listenFailed.requested { throw ExitCode(ExitStatus.usageOrConfig) }
        if failed { throw ExitCode(ExitStatus.someFeedsFailed) }
    }

    /// The loop: batches until up to date, then (unless `once`) a look every `interval`.
    /// Returns whether something failed (only `once` stops on a failure).
    private static func materialize(database: ClusterDatabase, configuration: Configuration, logger: Logger,
                                    once: Bool, quiet: Bool, interval: Double, batchSize: Int, stop: StopRequest,
                                    metrics: MetricsSetup?, health: MaterializerHealth) async -> Bool {
        let written = Counter(label: "feedcorpus_materialized_stories_total")
        let errors = Counter(label: "feedcorpus_materialize_errors_total")
        let positionGauge = Gauge(label: "feedcorpus_copy_position")
        let behindGauge = Gauge(label: "feedcorpus_copy_behind_stories")
        let upToDate = Gauge(label: "feedcorpus_last_materialized_timestamp_seconds")
        let materializer: Materializer
        do {
            let writer = try CorpusWriter(root: configuration.corpusDirectory, layout: configuration.layout == .flat ? .flat : .daily)
            try await database.migrate()
            materializer = try await Materializer(database: database, writer: writer, batchSize: batchSize)
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(error)\n".utf8))
            return true
        }
        var writtenCount = 0
        var present = 0
        var failed = false
        while !stop.requested {
            do {
                if let batch = try await materializer.step() {
                    writtenCount += batch.files.count
                    present += batch.alreadyPresent
                    written.increment(by: batch.files.count)
                    positionGauge.record(batch.position)
                    if !quiet {
                        print("materialized \(FetchCommand.plural(batch.files.count, "story", "stories")) up to \(batch.position)"
                              + (batch.alreadyPresent > 0 ? " (\(batch.alreadyPresent) already written by an interrupted batch)" : ""))
                    }
                    logger.info("materialized", metadata: ["stories": "\(batch.files.count)", "position": "\(batch.position)",
                                                           "already_present": "\(batch.alreadyPresent)"])
                    if let command = configuration.onNewStories, !batch.files.isEmpty {
                        let outcome = await NewStoryHook.run(command: command, files: batch.files, timeout: configuration.onNewStoriesTimeout,
                                                             logger: logger, directory: (configuration.path as NSString).deletingLastPathComponent,
                                                             corpus: configuration.corpusDirectory)
                        if outcome != .succeeded { failed = true }
                    }
                    continue
                }
                // Up to date: texts every registered copy has leave the state.
                let pruned = try await database.pruneTexts()
                if pruned > 0 { logger.info("pruned texts every copy has", metadata: ["stories": "\(pruned)"]) }
                let position = await materializer.position
                positionGauge.record(position)
                behindGauge.record(max(0, try await database.latestStorySeq() - position))
                upToDate.record(Date().timeIntervalSince1970)
                health.upToDate(position: position)
                metrics?.writeTextfile(logger: logger)
                if once { break }
            } catch {
                errors.increment()
                metrics?.writeTextfile(logger: logger)
                FileHandle.standardError.write(Data("feedcorpus: \(error)\n".utf8))
                logger.error("materialize failed; trying again", metadata: ["error": "\(error)", "retry_seconds": "\(interval)"])
                if once { return true }
            }
            try? await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
        }
        let position = await materializer.position
        print("copy \(materializer.name) (\(materializer.root)): \(FetchCommand.plural(writtenCount, "story", "stories")) written"
              + (present > 0 ? ", \(present) found already written" : "") + ", at story \(position)"
              + (stop.requested ? " (stopped by a signal)" : ", up to date"))
        return failed
    }
}

/// What the materializer's /healthz says: healthy while it found its copy up to date within the
/// last ten looks (at least two minutes); a database it cannot reach, or a copy that cannot be
/// written, makes it stale.
final class MaterializerHealth: @unchecked Sendable {
    private let lock = NSLock()
    private let allowed: TimeInterval
    private var last: (at: Date, position: Int64)?

    init(interval: Double) {
        allowed = max(120, 10 * interval)
    }

    func upToDate(position: Int64) {
        lock.withLock { last = (Date(), position) }
    }

    func report() -> HealthReport {
        let last = lock.withLock { self.last }
        guard let last else { return HealthReport(healthy: false, json: #"{"status":"starting"}"#) }
        let healthy = Date().timeIntervalSince(last.at) <= allowed
        return HealthReport(healthy: healthy, json: #"{"status":"\#(healthy ? "ok" : "stalled")","position":\#(last.position),"up_to_date_at":"\#(ISO8601.string(last.at))"}"#)
    }
}
