import ArgumentParser
import FeedConfig
import FeedDaemon
import FeedModel
import Foundation
import Logging
import Pipeline
import UnixSignals

struct FetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Poll the feeds once, store new stories, and exit (for cron or a systemd timer).",
        discussion: """
            Exit status: 0 all feeds ok, 1 some feeds failed (listed) or on_new_stories failed, \
            2 usage or config error, 3 a damaged state file, 75 the state is locked by another feedcorpus. \
            SIGTERM or SIGINT: no new feed is started, work in flight may finish within --grace, \
            the total is printed.
            """)

    @OptionGroup var options: CommonOptions

    @Flag(help: "One pass over the feeds, then exit (the only mode of `fetch`; `feedcorpus run` is the service).")
    var once = false

    @Flag(name: .shortAndLong, help: "Print only failures and the total.")
    var quiet = false

    @Flag(help: "Poll every feed now, due or not (ignores the schedule, error backoff and Retry-After holds).")
    var all = false

    @Option(help: "Only this feed (its name or URL); repeat for several.")
    var feed: [String] = []

    @Option(help: "Seconds that work in flight may take to finish after SIGTERM or SIGINT.")
    var grace: Double = 10

    func run() async throws {
        let logger = options.bootstrapLogging()
        let configuration = try options.loadConfiguration()
        let quiet = self.quiet
        _ = try ConfiguredFeeds.named(feed, in: configuration)  // every name must be a configured feed
        if configuration.feeds.isEmpty {
            FileHandle.standardError.write(Data("feedcorpus: the config \(options.config) lists no feeds: nothing to poll (add feeds under `feeds:`; feedcorpus add URL finds a site's feed)\n".utf8))
        }
        let metrics = MetricsSetup.make(configuration.metrics)
        let pass = IngestPass(configuration: configuration, logger: logger, pollAll: all || !feed.isEmpty,
                              only: feed.isEmpty ? nil : Set(feed), metrics: metrics?.pipeline)
        let session: IngestSession
        do {
            session = try await IngestSession.open(configuration: configuration, logger: logger, clock: { Date() })
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(error.description)\n".utf8))
            throw ExitCode(ExitStatus.of(error))
        }
        defer { session.close() }
        // Under systemd, standard output and the log both go to the journal: a failure is the
        // log's error line there, not a second FAILED line.
        let failuresInLog = (options.logFormat ?? LogFormat.automatic()) == .journal
        let total = pass.selectedFeeds.count
        let progress = ProgressBar(total: total)
        let stop = StopRequest()
        let grace = Duration.milliseconds(Int64(self.grace * 1000))
        let summary: PassSummary = await withTaskGroup(of: PassSummary?.self) { group in
            let running = Task {
                await pass.run(in: session, shouldStart: { !stop.requested }) { report in
                    let show = (!quiet || report.failed) && !(report.failed && failuresInLog)
                    progress.advance(stored: report.stored, failed: report.failed, line: show ? Self.line(for: report) : nil)
                }
            }
            group.addTask { await running.value }
            group.addTask {
                // SIGTERM or SIGINT: start no new feed, let work in flight finish within the grace.
                for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                    stop.request()
                    logger.notice("stopping: no new feeds are started; work in flight may finish", metadata: [
                        "signal": "\(signal)", "grace_seconds": "\(grace)"])
                    try? await Task.sleep(for: grace)
                    running.cancel()  // Abandoned transfers store nothing; a story is whole or absent.
                    return nil
                }
                return nil
            }
            if isatty(STDERR_FILENO) != 1 {
                // No progress bar without a terminal: a progress line in the log every few seconds.
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(5))
                        if Task.isCancelled { break }
                        logger.info("progress", metadata: progress.metadata(waiting: session.client.waitingRequests))
                    }
                    return nil
                }
            }
            var finished: PassSummary?
            while let result = await group.next() {
                if let result {
                    finished = result
                    break
                }
            }
            group.cancelAll()
            if let finished { return finished }
            return await running.value
        }
        progress.finish()
        for backfill in summary.backfills { print(Self.line(for: backfill)) }
        let hook = await pass.runHook(after: summary)
        metrics?.writeTextfile(logger: logger)
        print(Self.total(summary) + (stop.requested ? " (stopped by a signal; the remaining feeds are polled next time)" : ""))
        if summary.feedsFailed > 0 { throw ExitCode(ExitStatus.someFeedsFailed) }
        switch hook {
        case .failed?, .timedOut?, .couldNotStart?:
            FileHandle.standardError.write(Data("feedcorpus: on_new_stories failed (see the log); the stories are stored\n".utf8))
            throw ExitCode(ExitStatus.someFeedsFailed)
        case .succeeded?, nil:
            break
        }
    }

    /// The feed's stdout line: control characters escaped (a feed's text cannot forge a line)
    /// and credentials of URLs removed.
    static func line(for report: FeedRunReport) -> String {
        LogText.escaped(URLCredentials.strippedInText(unsafeLine(for: report)))
    }

    private static func unsafeLine(for report: FeedRunReport) -> String {
        switch report.outcome {
        case .ok:
            var line = "ok         \(report.name): \(report.entriesSeen) entries, \(report.newEntries) new, \(report.stored) stored, \(plural(report.duplicates, "duplicate")) dropped"
            if report.windowOverflow {
                line += report.backfillScheduled != nil ? " (window overflow: a backfill follows)" : " (window overflow: entries may have been missed; backfill is off)"
            }
            if let warning = report.warning { line += " (warning: \(warning))" }
            return line
        case .notModified:
            return "unchanged  \(report.name): not modified since the last poll" + (report.warning.map { " (warning: \($0))" } ?? "")
        case let .failed(message):
            return "FAILED     \(report.name): \(message)"
        case let .skipped(reason):
            return "skipped    \(report.name): \(reason)"
        }
    }

    /// The stdout line of a backfill the pass worked on.
    static func line(for report: BackfillReport) -> String {
        var line = "backfill   \(report.name): \(plural(report.stored, "story", "stories")) recovered (\(report.storedViaArchive) via archive, "
            + "\(report.storedViaSitemap) via sitemap), \(plural(report.duplicates, "duplicate")) dropped, "
            + "\(plural(report.documentsFetched, "document")) and \(plural(report.urlsFetched, "page")) fetched; "
        if let result = report.result {
            line += "finished: \(result)"
        } else {
            line += "continues at the next pass (\(report.paused ?? ""))"
        }
        return LogText.escaped(URLCredentials.strippedInText(line))
    }

    static func total(_ summary: PassSummary) -> String {
        "total: \(plural(summary.reports.count, "feed")) (\(summary.feedsOK) ok, \(summary.feedsFailed) failed"
            + (summary.feedsSkipped > 0 ? ", \(summary.feedsSkipped) skipped" : "") + "), "
            + "\(plural(summary.entriesSeen, "entry", "entries")) seen, \(plural(summary.stored, "story", "stories")) stored, "
            + "\(plural(summary.duplicates, "duplicate")) dropped"
            + (summary.backfilled > 0 ? " (\(summary.backfilled) of the stories recovered by backfill)" : "")
    }

    static func plural(_ count: Int, _ singular: String, _ pluralForm: String? = nil) -> String {
        "\(count) \(count == 1 ? singular : (pluralForm ?? singular + "s"))"
    }
}

/// Set once by a signal, read before each feed starts.
final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false

    var requested: Bool { lock.withLock { flag } }
    func request() { lock.withLock { flag = true } }
}
