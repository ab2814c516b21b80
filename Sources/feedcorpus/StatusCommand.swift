import ArgumentParser
import ClusterState
import FeedConfig
import FeedModel
import Foundation
import Logging
import Pipeline
import StateStore

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each feed's last poll, next poll, interval, stories, duplicates and errors.",
        discussion: """
            Reads the state without taking the lock, so it works while the service runs. In cluster mode \
            (state: postgres://…) it reads the shared state: each feed's lease, last and next poll, the \
            stories committed, and how far each corpus copy has materialized them.
            """)

    @OptionGroup var options: CommonOptions

    @Flag(help: "One JSON document instead of text.")
    var json = false

    @Option(name: .customLong("feed"), help: "Only this feed (its name or URL); repeatable.")
    var feeds: [String] = []

    @Flag(help: "Only feeds whose last polls failed (disabled feeds included).")
    var failing = false

    func run() async throws {
        let configuration = try options.loadConfiguration(allowCluster: true)
        _ = try ConfiguredFeeds.named(feeds, in: configuration)  // every name must be a configured feed
        if let state = configuration.clusterState {
            try await clusterStatus(state: state, configuration: configuration)
            return
        }
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

    /// `status` in cluster mode: the shared state's feeds (configured ones first), leases,
    /// stories and corpus copies.
    private func clusterStatus(state: String, configuration: Configuration) async throws {
        guard let url = ClusterDatabaseURL(state) else {
            FileHandle.standardError.write(Data("feedcorpus: config error: \(options.config): state: not a usable URL; write postgres://user[:password]@host[:port]/database\n".utf8))
            throw ExitCode(ExitStatus.usageOrConfig)
        }
        let logger = options.bootstrapLogging()
        let overview: ClusterOverview
        do {
            overview = try await ClusterDatabase.withDatabase(url: url, logger: logger, maxConnections: 1) { try await $0.overview() }
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(error)\n".utf8))
            throw ExitCode(ExitStatus.someFeedsFailed)
        }
        let order = Dictionary(configuration.feeds.enumerated().map { ($0.element.url, $0.offset) }, uniquingKeysWith: { a, _ in a })
        var rows = overview.feeds.sorted { (order[$0.url] ?? Int.max, $0.url) < (order[$1.url] ?? Int.max, $1.url) }
        let total = rows.count
        let leased = rows.filter { $0.leaseOwner != nil }.count
        let disabled = rows.filter { $0.disabledReason != nil }.count
        let failingCount = rows.filter { $0.lastResult == "error" && $0.disabledReason == nil }.count
        if !feeds.isEmpty { rows = rows.filter { feeds.contains($0.name) || feeds.contains($0.url) } }
        if failing { rows = rows.filter { $0.lastResult == "error" || $0.disabledReason != nil } }
        let copies = overview.copies.sorted { $0.key < $1.key }
        if json {
            func value<T>(_ optional: T?) -> Any { optional.map { $0 as Any } ?? NSNull() }
            let feedObjects: [[String: Any]] = rows.map { feed in
                [
                    "name": feed.name, "url": URLCredentials.stripped(feed.url), "configured": order[feed.url] != nil, "host": feed.host,
                    "next_due": ISO8601.string(feed.nextPollAt), "leased_by": value(feed.leaseOwner),
                    "lease_expires": value(feed.leaseExpires.map(ISO8601.string)), "last_poll": value(feed.lastPollAt.map(ISO8601.string)),
                    "last_result": value(feed.lastResult), "last_error": value(feed.lastError.map(URLCredentials.strippedInText)),
                    "disabled": value(feed.disabledReason), "stories_stored": feed.storiesStored, "duplicates_dropped": feed.duplicatesDropped,
                ]
            }
            let object: [String: Any] = [
                "cluster_state": url.description, "now": ISO8601.string(overview.now), "feeds": feedObjects,
                "totals": ["feeds": total, "leased": leased, "workers": overview.workers.count, "disabled": disabled, "failing": failingCount,
                           "stories_committed": overview.storiesCommitted],
                "corpus_copies": copies.map { ["name": $0.key, "position": $0.value, "behind": overview.latestStorySeq - $0.value] },
                "held_hosts": overview.heldHosts.mapValues { ISO8601.string($0) },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        func show(_ text: String) -> String { LogText.escaped(URLCredentials.strippedInText(text)) }
        print(show("cluster state \(url) at \(ISO8601.string(overview.now))"))
        for (host, until) in overview.heldHosts.sorted(by: { $0.key < $1.key }) {
            print(show("host \(host) is on hold for every worker until \(ISO8601.string(until)) (it answered with Retry-After)"))
        }
        for feed in rows {
            var state = feed.lastResult ?? "never polled"
            if let reason = feed.disabledReason { state = "DISABLED: \(reason)" } else if feed.lastResult == "error" {
                state = "FAILING: \(feed.lastError ?? "")"
            }
            print(show("\(feed.name)\(order[feed.url] == nil ? " (no longer configured)" : "")  \(feed.url)"))
            let lease = feed.leaseOwner.map { "; leased by \($0) until \(feed.leaseExpires.map(ISO8601.string) ?? "-")" } ?? ""
            print(show("    last poll \(feed.lastPollAt.map(ISO8601.string) ?? "-") (\(state)); next due \(ISO8601.string(feed.nextPollAt))\(lease)"))
            print(show("    \(feed.storiesStored) stored, \(feed.duplicatesDropped) duplicates dropped"))
        }
        for (name, position) in copies {
            let behind = overview.latestStorySeq - position
            print(show("corpus copy \(name): at story \(position)" + (behind > 0 ? ", \(behind) behind" : ", up to date")))
        }
        if copies.isEmpty && overview.storiesCommitted > 0 {
            print("no corpus copy registered: run `feedcorpus materialize` on the machine that keeps the corpus")
        }
        print("total: \(total) feeds (\(leased) leased by \(FetchCommand.plural(overview.workers.count, "worker"))), "
              + "\(overview.storiesCommitted) stories committed, \(failingCount) failing, \(disabled) disabled")
    }
}
