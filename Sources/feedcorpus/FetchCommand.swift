import ArgumentParser
import FeedConfig
import FeedModel
import Foundation
import Pipeline

struct FetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Poll the feeds once, store new stories, and exit (for cron or a systemd timer).",
        discussion: """
            Exit status: 0 all feeds ok, 1 some feeds failed (listed), 2 usage or config error, \
            75 the state is locked by another feedcorpus.
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

    func run() async throws {
        let logger = options.bootstrapLogging()
        let configuration = try options.loadConfiguration()
        let quiet = self.quiet
        let unknown = feed.filter { wanted in !configuration.feeds.contains { $0.name == wanted || $0.url == wanted } }
        guard unknown.isEmpty else {
            FileHandle.standardError.write(Data("feedcorpus: no configured feed is named or has the URL \(unknown.joined(separator: ", "))\n".utf8))
            throw ExitCode(ExitStatus.usageOrConfig)
        }
        let summary: PassSummary
        let metrics = MetricsSetup.make(configuration.metrics)
        do {
            let pass = IngestPass(configuration: configuration, logger: logger, pollAll: all || !feed.isEmpty,
                                  only: feed.isEmpty ? nil : Set(feed), metrics: metrics?.pipeline)
            let progress = ProgressBar(total: pass.selectedFeeds.count)
            summary = try await pass.run { report in
                progress.advance(stored: report.stored, line: !quiet || report.failed ? Self.line(for: report) : nil)
            }
            progress.finish()
            metrics?.writeTextfile(logger: logger)
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(error.description)\n".utf8))
            throw ExitCode(ExitStatus.of(error))
        }
        print(Self.total(summary))
        if summary.feedsFailed > 0 { throw ExitCode(ExitStatus.someFeedsFailed) }
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

    static func total(_ summary: PassSummary) -> String {
        "total: \(plural(summary.reports.count, "feed")) (\(summary.feedsOK) ok, \(summary.feedsFailed) failed"
            + (summary.feedsSkipped > 0 ? ", \(summary.feedsSkipped) skipped" : "") + "), "
            + "\(plural(summary.entriesSeen, "entry", "entries")) seen, \(plural(summary.stored, "story", "stories")) stored, "
            + "\(plural(summary.duplicates, "duplicate")) dropped"
    }

    static func plural(_ count: Int, _ singular: String, _ pluralForm: String? = nil) -> String {
        "\(count) \(count == 1 ? singular : (pluralForm ?? singular + "s"))"
    }
}
