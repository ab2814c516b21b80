import ArgumentParser
import ClusterState
import CorpusWriter
import FeedConfig
import Foundation
import Pipeline
import StateStore

/// `feedcorpus check`: everything a run needs, checked without fetching anything.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the config, the state, the corpus folder and the hook without fetching; exit 0 when a run can start, 2 when not.",
        discussion: """
            Checks: the config loads (every error names the file, key and line); the state file opens \
            (or its folder can hold a new one); the corpus folder exists or can be created, is writable, \
            and belongs to this state; the on_new_stories command's program exists; the metrics textfile's \
            folder exists. In cluster mode (state: postgres://…) the state check connects to the server, and \
            the corpus folder is checked as a corpus copy (`feedcorpus materialize` writes it). Exit 0 when \
            all is well, 2 when something must be fixed first, 3 for a damaged state.
            """)

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let configuration: Configuration
        do {
            configuration = try ConfigLoader.load(path: options.config)
        } catch {
            print("PROBLEM config: \(error.description)")
            throw ExitCode(ExitStatus.usageOrConfig)
        }
        var problems = 0
        var damaged = false
        func ok(_ what: String, _ text: String) { print("ok      \(what): \(text)") }
        func problem(_ what: String, _ text: String) {
            print("PROBLEM \(what): \(text)")
            problems += 1
        }
        ok("config", "\(configuration.path): \(configuration.feeds.count) feed\(configuration.feeds.count == 1 ? "" : "s")")
        if configuration.feeds.isEmpty { problem("feeds", "the config lists no feeds: a run would poll nothing (add `feeds:` entries or `opml:`)") }

        // The state.
        let statePath = configuration.statePath
        var stateCorpusID: String?
        if let state = configuration.clusterState {
            if let url = ClusterDatabaseURL(state) {
                do {
                    try await ClusterDatabase(url: url, logger: options.bootstrapLogging()).checkConnection()
                    ok("state", "cluster state \(url) accepts connections")
                } catch {
                    problem("state", "\(error)")
                }
            } else {
                problem("state", "not a usable URL; write postgres://user[:password]@host[:port]/database")
            }
        } else if FileManager.default.fileExists(atPath: statePath) {
            do {
                let state = try StateStore.openReadOnly(path: statePath)
                stateCorpusID = try state.corpusID()
                ok("state", "\(statePath): \(try state.storyCount()) stories recorded")
            } catch {
                damaged = error.damaged
                problem("state", error.description)
            }
        } else {
            let folder = (statePath as NSString).deletingLastPathComponent
            if let reason = Self.unwritableFolder(folder) {
                problem("state", "\(statePath) does not exist yet and cannot be created: \(reason)")
            } else {
                ok("state", "\(statePath) does not exist yet; the first run creates it")
            }
        }
        if configuration.clusterState == nil, let holder = StateLock.holder(statePath: statePath) { ok("lock", "a run is in progress: \(holder)") }

        // The corpus folder and its binding.
        let corpus = configuration.corpusDirectory
        if let reason = Self.unwritableFolder(corpus) {
            problem("corpus", "\(corpus): \(reason)")
        } else {
            let id = CorpusWriter.corpusID(root: corpus)
            if configuration.clusterState != nil {
                ok("corpus", "\(corpus) is writable (a corpus copy: `feedcorpus materialize` writes it)")
            } else if let id, id != stateCorpusID {
                problem("corpus", "\(corpus) was written by another state file (corpus id \(id)); give this config its own `corpus:` or point `state:` at that state")
            } else {
                ok("corpus", "\(corpus) is writable" + (id == nil ? " (not yet bound to a state)" : " and belongs to this state"))
            }
        }

        // The hook's program.
        if let command = configuration.onNewStories {
            let program = command.split(separator: " ").first.map(String.init) ?? ""
            let folder = (configuration.path as NSString).deletingLastPathComponent
            if let found = Self.findProgram(program, from: folder) {
                ok("on_new_stories", "\(program) found (\(found)); it runs in \(folder)")
            } else if ["exit", "cat", "echo", "true", ":", "test", "["].contains(program) || program.contains("=") {
                ok("on_new_stories", "a shell command (\(program))")
            } else {
                problem("on_new_stories", "the program '\(program)' is not found or not executable (relative paths start at \(folder); otherwise $PATH is searched)")
            }
        }
        if let textfile = configuration.metrics.textfile {
            let folder = (textfile as NSString).deletingLastPathComponent
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue {
                ok("metrics.textfile", "\(textfile)")
            } else {
                problem("metrics.textfile", "the folder \(folder) does not exist; create it or change metrics.textfile")
            }
        }
        print(problems == 0 ? "all checks passed" : "\(problems) problem\(problems == 1 ? "" : "s") to fix before a run")
        if damaged { throw ExitCode(ExitStatus.stateDamaged) }
        if problems > 0 { throw ExitCode(ExitStatus.usageOrConfig) }
    }

    /// Why `folder` (or, when it does not exist, its nearest existing parent) cannot take new
    /// files, or nil when it can.
    static func unwritableFolder(_ folder: String) -> String? {
        var path = folder
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            let parent = (path as NSString).deletingLastPathComponent
            if parent == path || parent.isEmpty { return "no existing parent folder" }
            path = parent
        }
        guard isDirectory.boolValue else { return "\(path) is not a folder" }
        guard access(path, W_OK | X_OK) == 0 else { return "\(path) is not writable by this user (\(String(cString: strerror(errno))))" }
        return nil
    }

    /// Where `program` resolves: a path (relative to `folder`), or a name on $PATH.
    static func findProgram(_ program: String, from folder: String) -> String? {
        guard !program.isEmpty else { return nil }
        if program.contains("/") {
            let path = program.hasPrefix("/") ? program : folder + "/" + program
            return access(path, X_OK) == 0 ? path : nil
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(program)"
            if access(path, X_OK) == 0 { return path }
        }
        return nil
    }
}
