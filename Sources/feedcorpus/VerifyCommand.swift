import ArgumentParser
import ClusterState
import CorpusWriter
import FeedConfig
import Foundation
import Pipeline
import StateStore

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that the corpus and the state agree; --repair fixes what the state can fix.",
        discussion: """
            Checks every folder: no temporary files; every story file recorded once in the state \
            and listed once in its manifest with the state's line; every recorded story has its \
            file, with the text it was stored with; no two files with the same text. --repair \
            (needs the lock: not while a run is writing) removes temporary files, rewrites \
            manifests from the state and moves unrecorded story files to a quarantine folder \
            beside the state (their entries are ingested again). Missing or changed files can only \
            be restored from a backup. Exit status: 0 consistent (after repairs), 1 problems remain, \
            2 config error, 75 --repair while another feedcorpus holds the lock. In cluster mode \
            (state: postgres://…) it checks this machine's corpus copy: the same file checks against the \
            copy's manifests, and every story the shared state has up to the copy's position must be in \
            the copy (and no other); nothing is repaired (a damaged copy is made again).
            """)

    @OptionGroup var options: CommonOptions

    @Flag(help: "Repair what can be repaired from the state.")
    var repair = false

    @Flag(help: "One JSON document instead of text.")
    var json = false

    func run() async throws {
        let configuration = try options.loadConfiguration(allowCluster: true)
        let verifier = CorpusVerifier(corpusRoot: configuration.corpusDirectory, statePath: configuration.statePath,
                                      layout: configuration.layout == .flat ? .flat : .daily)
        let report: CorpusVerifier.Report
        if let state = configuration.clusterState {
            report = try await checkCopy(state: state, verifier: verifier)
        } else {
            do {
                report = try verifier.run(repair: repair)
            } catch {
                FileHandle.standardError.write(Data("feedcorpus: \(error.description)\n".utf8))
                throw ExitCode(ExitStatus.of(error))
            }
        }
        let cluster = configuration.clusterState != nil
        if json {
            let object: [String: Any] = [
                "folders": report.folders, "files": report.files, "recorded": report.recorded,
                "run_in_progress": report.runInProgress, "consistent": report.remaining.isEmpty,
                "problems": report.problems.map { ["kind": $0.kind.rawValue, "path": $0.path, "detail": $0.detail, "repaired": $0.repaired] },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for problem in report.problems {
                print("\(problem.repaired ? "repaired" : "PROBLEM ") \(problem.kind.rawValue): \(problem.path): \(problem.detail)")
            }
            if report.runInProgress {
                print(cluster ? "note: the materializer holds the corpus lock; temporary files were not checked"
                              : "note: a run holds the lock; temporary files were not checked")
            }
            let repaired = report.problems.count - report.remaining.count
            print("checked \(FetchCommand.plural(report.files, "story file")) in \(FetchCommand.plural(report.folders, "folder")) against "
                  + "\(FetchCommand.plural(report.recorded, "state record")): "
                  + (report.problems.isEmpty ? "consistent"
                     : "\(FetchCommand.plural(report.problems.count, "problem")), \(repaired) repaired, \(report.remaining.count) remaining"
                       + (repair || cluster || !report.remaining.contains { $0.kind.isRepairable } ? "" : " (run with --repair)")))
        }
        if !report.remaining.isEmpty { throw ExitCode(1) }
    }

    /// Cluster mode: this machine's corpus copy against the shared state, up to the copy's position.
    private func checkCopy(state: String, verifier: CorpusVerifier) async throws -> CorpusVerifier.Report {
        guard !repair else {
            FileHandle.standardError.write(Data("feedcorpus: verify --repair does not patch a corpus copy in cluster mode: make a damaged copy again (an empty folder and `feedcorpus materialize`, or a copy of another copy's folder)\n".utf8))
            throw ExitCode(ExitStatus.usageOrConfig)
        }
        guard let url = ClusterDatabaseURL(state) else {
            FileHandle.standardError.write(Data("feedcorpus: config error: \(options.config): state: not a usable URL; write postgres://user[:password]@host[:port]/database\n".utf8))
            throw ExitCode(ExitStatus.usageOrConfig)
        }
        let root = verifier.corpusRoot
        guard FileManager.default.fileExists(atPath: root) else {
            FileHandle.standardError.write(Data("feedcorpus: no corpus copy at \(root) yet: run `feedcorpus materialize` there first\n".utf8))
            throw ExitCode(1)
        }
        // While the materializer holds the copy, temporary files are its work in progress.
        var running = false
        do {
            _ = try StateLock(lockFile: root + "/" + CorpusWriter.lockFileName, guarding: "corpus")
        } catch is StateLock.Busy {
            running = true
        } catch {}
        let position: Int64
        do {
            position = try CorpusWriter(root: root, layout: verifier.layout).materializedPosition() ?? 0
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(error)\n".utf8))
            throw ExitCode(1)
        }
        do {
            let hashes = try await ClusterDatabase.withDatabase(url: url, logger: options.bootstrapLogging(), maxConnections: 1) {
                try await $0.storyHashes(upTo: position)
            }
            return try verifier.checkCopy(stateHashes: hashes, position: position, materializerRunning: running)
        } catch let error as PassError {
            FileHandle.standardError.write(Data("feedcorpus: \(error.description)\n".utf8))
            throw ExitCode(ExitStatus.of(error))
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
