import ArgumentParser
import FeedConfig
import FeedModel
import Foundation
import Pipeline
import StateStore

/// `feedcorpus poll`: make feeds due now, for a running service (or the next `fetch --once`).
struct PollCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "poll",
        abstract: "Make feeds due now: a running service polls them at once (after the pass in progress).",
        discussion: """
            Writes the feeds' next poll time into the state (no lock needed: it works while the service \
            runs) and wakes a running service with SIGUSR2 (without permission to signal it, the service \
            looks again within a minute). Without a running service, the next \
            `feedcorpus fetch --once` polls them. Disabled feeds (HTTP 410) stay disabled: see `enable`. \
            `kill -USR1` (or `systemctl kill -s USR1 feedcorpus`) makes the service poll every feed too.
            """)

    @OptionGroup var options: CommonOptions

    @Option(name: .customLong("feed"), help: "Only this feed (its name or URL); repeatable. Default: every feed.")
    var feeds: [String] = []

    func run() throws {
        let configuration = try options.loadConfiguration()
        let selected = try ConfiguredFeeds.named(feeds, in: configuration)
        let changed: Int
        do {
            changed = try StateStore.openExisting(path: configuration.statePath).markDue(urls: selected?.map(\.url), now: Date())
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(error)\n".utf8))
            throw ExitCode(ExitStatus.of(stateError: error))
        }
        let count = selected?.count ?? configuration.feeds.count
        let what = "\(count) feed\(count == 1 ? "" : "s") due now (\(changed) rescheduled; feeds never polled are due anyway)"
        if let holder = StateLock.holder(statePath: configuration.statePath) {
            let woken = RunningService.wake(statePath: configuration.statePath)
            print("\(what); the running feedcorpus (\(holder)) polls them "
                  + (woken ? "now, after the pass in progress if there is one" : "at its next wake-up (within a minute): it could not be signalled"))
        } else {
            print("\(what); no feedcorpus is running: `feedcorpus fetch --once` polls them")
        }
    }
}

/// `feedcorpus enable FEED`: undo the disabling of a feed that answered 410 Gone.
struct EnableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Enable a feed that HTTP 410 Gone disabled, and make it due now.")

    @OptionGroup var options: CommonOptions

    @Argument(help: "The feed's name or URL.")
    var feed: String

    func run() throws {
        let configuration = try options.loadConfiguration()
        guard let source = try ConfiguredFeeds.named([feed], in: configuration)?.first else { return }
        do {
            let reason = try StateStore.openExisting(path: configuration.statePath).enable(url: source.url, now: Date())
            _ = RunningService.wake(statePath: configuration.statePath)
            if let reason {
                print("\(source.name) is enabled again and due now (it was disabled: \(LogText.escaped(reason)))")
            } else {
                print("\(source.name) was not disabled; it is due now")
            }
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(error)\n".utf8))
            throw ExitCode(error.damaged ? ExitStatus.stateDamaged : ExitStatus.someFeedsFailed)
        }
    }
}

enum ConfiguredFeeds {
    /// The configured feeds `names` name (by name or URL); nil for an empty list (every feed).
    static func named(_ names: [String], in configuration: Configuration) throws -> [FeedSource]? {
        guard !names.isEmpty else { return nil }
        let unknown = names.filter { name in !configuration.feeds.contains { $0.name == name || $0.url == name } }
        if !unknown.isEmpty {
            throw ValidationError("no configured feed is named or has the URL \(unknown.joined(separator: ", "))")
        }
        return configuration.feeds.filter { names.contains($0.name) || names.contains($0.url) }
    }
}

/// The `feedcorpus run` that holds a state's lock, if one does.
enum RunningService {
    /// Sends SIGUSR2 (look at the schedule again) to the service holding the lock of
    /// `statePath`; false when no service holds it or it cannot be signalled. A one-shot
    /// `fetch` holding the lock is left alone.
    static func wake(statePath: String) -> Bool {
        guard let holder = StateLock.holder(statePath: statePath), holder.contains(" run ") || holder.contains(" run,"),
              let pid = StateLock.holderPID(statePath: statePath) else { return false }
        return kill(pid, SIGUSR2) == 0
    }
}
