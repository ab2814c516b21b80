import ArgumentParser
import FeedConfig
import FeedModel
import Foundation
import Pipeline
import StateStore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each feed's last poll, next poll, interval, stories, duplicates and errors.",
        discussion: "Reads the state without taking the lock, so it works while the service runs.")

    @OptionGroup var options: CommonOptions

    @Flag(help: "One JSON document instead of text.")
    var json = false

    @Option(name: .customLong("feed"), help: "Only this feed (its name or URL); repeatable.")
    var feeds: [String] = []

    @Flag(help: "Only feeds whose last polls failed (disabled feeds included).")
    var failing = false

    func run() throws {
        let configuration = try options.loadConfiguration()
        _ = try ConfiguredFeeds.named(feeds, in: configuration)  // every name must be a configured feed
        let statuses: [FeedStatus]
        let holds: [String: Date]
        do {
            let state = try StateStore.openReadOnly(path: configuration.statePath)
            statuses = try state.feedStatuses()
            holds = try state.hostHolds(now: Date())
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(error)\n".utf8))
            throw ExitCode(ExitStatus.of(stateError: error))
        }
        // Configured feeds first, in config order; feeds only the state still knows after them.
        let byURL = Dictionary(statuses.map { ($0.url, $0) }, uniquingKeysWith: { a, _ in a })
        var rows: [(FeedStatus, configured: Bool)] = configuration.feeds.map { feed in
            (byURL[feed.url] ?? FeedStatus(url: feed.url, name: feed.name, consecutiveErrors: 0, windowOverflows: 0,
                                           storiesStored: 0, duplicatesDropped: 0), true)
        }
        let configured = Set(configuration.feeds.map(\.url))
        rows += statuses.filter { !configured.contains($0.url) }.map { ($0, false) }

        // Totals count every feed; a disabled feed counts as disabled, not as failing too.
        let stored = rows.reduce(0) { $0 + $1.0.storiesStored }
        let dropped = rows.reduce(0) { $0 + $1.0.duplicatesDropped }
        let failingCount = rows.filter { $0.0.consecutiveErrors > 0 && $0.0.disabledReason == nil }.count
        let disabled = rows.filter { $0.0.disabledReason != nil }.count
        let running = StateLock.holder(statePath: configuration.statePath)
        let total = configuration.feeds.count + statuses.count(where: { !configured.contains($0.url) })
        if !feeds.isEmpty {
            rows = rows.filter { status, _ in feeds.contains(status.name) || feeds.contains(status.url) }
        }
        if failing {
            rows = rows.filter { status, _ in status.consecutiveErrors > 0 || status.disabledReason != nil }
        }
        if json {
            let feedObjects: [[String: Any]] = rows.map { status, isConfigured in
                func value<T>(_ optional: T?) -> Any { optional.map { $0 as Any } ?? NSNull() }
                return [
                    "name": status.name, "url": URLCredentials.stripped(status.url), "configured": isConfigured,
                    "fetch_url": value(status.fetchURL.map(URLCredentials.stripped)),
                    "last_poll": value(status.lastPollAt.map(ISO8601.string)), "last_result": value(status.lastResult?.rawValue),
                    "last_error": value(status.lastError.map(URLCredentials.strippedInText)), "consecutive_errors": status.consecutiveErrors,
                    "next_due": value(status.nextPollAt.map(ISO8601.string)), "interval_seconds": value(status.pollInterval),
                    "stories_stored": status.storiesStored, "duplicates_dropped": status.duplicatesDropped,
                    "window_overflows": status.windowOverflows, "disabled": value(status.disabledReason),
                    "backfilled_stories": status.backfilledStories, "backfill_pending": status.backfillPending,
                    "last_backfill": value(status.lastBackfill.map(URLCredentials.strippedInText)),
                    "last_backfill_at": value(status.lastBackfillAt.map(ISO8601.string)),
                ]
            }
            let object: [String: Any] = ["feeds": feedObjects, "totals": [
                "feeds": total, "stories_stored": stored,
                "duplicates_dropped": dropped, "failing": failingCount, "disabled": disabled,
            ], "run_in_progress": running ?? NSNull(),
               "held_hosts": holds.mapValues { ISO8601.string($0) }]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        if let running {
            print(LogText.escaped("a run is in progress: \(running) (feeds it has polled but not yet stored show their earlier state)"))
        }
        for (host, until) in holds.sorted(by: { $0.key < $1.key }) {
            print(LogText.escaped("host \(host) is on hold until \(ISO8601.string(until)) (it answered 429/503 with Retry-After); its feeds wait, which is not an error"))
        }
        for (status, isConfigured) in rows {
            var state = status.lastResult?.rawValue ?? "never polled"
            if let reason = status.disabledReason { state = "DISABLED: \(reason)" } else if status.consecutiveErrors > 0 {
                state = "FAILING (\(status.consecutiveErrors) in a row): \(status.lastError ?? "")"
            } else if status.lastResult == .held, let wait = status.lastError {
                state = "waiting: \(wait)"
            }
            func show(_ text: String) -> String { LogText.escaped(URLCredentials.strippedInText(text)) }
            print(show("\(status.name)\(isConfigured ? "" : " (no longer configured)")  \(status.url)"))
            let last = status.lastPollAt.map(ISO8601.string) ?? "-"
            let next = status.nextPollAt.map(ISO8601.string) ?? (status.disabledReason == nil ? "now" : "-")
            let interval = status.pollInterval.map { Self.duration($0) } ?? "-"
            print(show("    last poll \(last) (\(state)); next due \(next); interval \(interval)"))
            print(show("    \(status.storiesStored) stored, \(status.duplicatesDropped) duplicates dropped"
                  + (status.windowOverflows > 0 ? ", \(status.windowOverflows) window overflows" : "")
                  + (status.backfilledStories > 0 ? ", \(status.backfilledStories) recovered by backfill" : "")
                  + (status.fetchURL.map { ", polled at \($0) (moved permanently)" } ?? "")))
            if status.backfillPending {
                print(show("    backfill under way (it continues at the next pass)"))
            }
            if let result = status.lastBackfill {
                print(show("    last backfill \(status.lastBackfillAt.map(ISO8601.string) ?? "-"): \(result)"))
            }
        }
        print("total: \(total) feeds, \(stored) stories stored, \(dropped) duplicates dropped, \(failingCount) failing, \(disabled) disabled")
    }

    static func duration(_ seconds: TimeInterval) -> String {
        seconds >= 3600 ? String(format: "%.1f h", seconds / 3600) : String(format: "%.0f min", seconds / 60)
    }
}
