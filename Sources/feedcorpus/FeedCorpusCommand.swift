import ArgumentParser
import ClusterState
import CMallocTuning
import FeedConfig
import FeedDaemon
import Fetcher
import Foundation
import Logging
import Pipeline
import StateStore
import XMLSupport

/// Exit statuses, documented in the README.
enum ExitStatus {
    static let ok: Int32 = 0
    static let someFeedsFailed: Int32 = 1
    static let usageOrConfig: Int32 = 2
    static let stateDamaged: Int32 = 3
    static let locked: Int32 = 75  // EX_TEMPFAIL

    /// The status a failed start of a run exits with.
    static func of(_ error: PassError) -> Int32 {
        switch error {
        case .locked: return locked
        case .stateDamaged: return stateDamaged
        case .setup: return usageOrConfig
        }
    }

    /// The status for an error of reading the state directly (status, duplicates).
    static func of(stateError error: any Error) -> Int32 {
        (error as? StateStoreError)?.damaged == true ? stateDamaged : someFeedsFailed
    }
}

@main
struct FeedCorpusCommand: AsyncParsableCommand {
    /// `--version`: the release, the commit it was built from, and the libraries it runs with.
    static let versionText = "feedcorpus \(FeedCorpusVersion.string) (commit \(buildCommit))\n"
        + "libcurl \(HTTPClient.libcurlVersion), libxml2 \(LibXMLVersion.string), SQLite \(StateStore.sqliteVersion)"

    static let configuration = CommandConfiguration(
        commandName: "feedcorpus",
        abstract: "Keeps a news corpus up to date from RSS, Atom and JSON Feed feeds.",
        version: versionText,
        subcommands: [RunCommand.self, FetchCommand.self, StatusCommand.self, PollCommand.self, EnableCommand.self, CheckCommand.self, AddCommand.self, VerifyCommand.self, ParseCommand.self, ExtractCommand.self, ImportOPMLCommand.self, ExportOPMLCommand.self, DuplicatesCommand.self, WorkerCommand.self, MaterializeCommand.self])

    /// As ArgumentParser's, except that a command-line usage error exits 2 (the README's
    /// "usage or configuration error"), not EX_USAGE (64).
    static func main() async {
        tuneMalloc()
        // `poll` and `enable` send SIGUSR2 to the lock holder to wake a running service; any
        // other feedcorpus holding the lock (a one-shot fetch) must not die of it.
        signal(SIGUSR2, SIG_IGN)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitStatus.usageOrConfig)
            }
            exit(withError: error)
        }
    }
}

/// glibc's allocator keeps up to eight arenas per core, each holding on to what its threads
/// freed, and raises its mmap threshold whenever a large block is freed, after which page-sized
/// buffers (fetched pages, parsed documents) come from the heap and fragment it. Two arenas and a
/// fixed 256 kB threshold, set before any thread starts: at 1,000 feeds x 30 (bench/ingest-scale.sh)
/// peak RSS 95 -> 87 MB at the same CPU time.
private func tuneMalloc() {
    _ = fc_tune_malloc(2, 256 * 1024)
}

/// Options shared by the commands that read the config.
struct CommonOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The YAML configuration file.")
    var config: String = "/etc/feedcorpus/feedcorpus.yaml"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .warning

    @Option(help: "Log format: text, journal or json (default: journal under systemd, else text).")
    var logFormat: LogFormat?

    func bootstrapLogging() -> Logger {
        let level = logLevel
        let format = logFormat ?? LogFormat.automatic()
        LoggingSystem.bootstrap { label in
            FeedCorpusLogHandler(label: label, format: format, level: level)
        }
        return Logger(label: "feedcorpus")
    }

    /// The configuration; a cluster-mode one (`state: postgres://…`) only for the commands that
    /// work on it (`allowCluster`), the others say so and exit with the config status.
    func loadConfiguration(allowCluster: Bool = false) throws -> Configuration {
        let configuration: Configuration
        do {
            configuration = try ConfigLoader.load(path: config)
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: config error: \(error.description)\n".utf8))
            throw ExitCode(ExitStatus.usageOrConfig)
        }
        if configuration.clusterState != nil, !allowCluster {
            FileHandle.standardError.write(Data(("feedcorpus: config error: \(config): state is a postgres:// URL (cluster mode); this command "
                + "works on a local SQLite state only. In cluster mode, `feedcorpus worker` polls the feeds into the shared state, "
                + "`feedcorpus materialize` writes the corpus folder from it, and `status`, `verify`, `duplicates` and `check` read it.\n").utf8))
            throw ExitCode(ExitStatus.usageOrConfig)
        }
        return configuration
    }

    /// The configuration of a cluster-only command (`worker`, `materialize`) and its state's
    /// URL; a SQLite state or an unusable URL is a config error saying what to do instead.
    func loadClusterConfiguration(command: String, withSQLite advice: String) throws -> (Configuration, ClusterDatabaseURL) {
        let configuration = try loadConfiguration(allowCluster: true)
        guard let state = configuration.clusterState else {
            FileHandle.standardError.write(Data("feedcorpus: config error: \(config): \(command) works in cluster mode only (state: postgres://user@host/database); with a SQLite state, \(advice)\n".utf8))
            throw ExitCode(ExitStatus.usageOrConfig)
        }
        guard let url = ClusterDatabaseURL(state) else {
            FileHandle.standardError.write(Data("feedcorpus: config error: \(config): state: not a usable URL; write postgres://user[:password]@host[:port]/database\n".utf8))
            throw ExitCode(ExitStatus.usageOrConfig)
        }
        return (configuration, url)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}
