import ArgumentParser
import CorpusWriter
import FeedConfig
import Foundation
import Pipeline

struct VerifyCommand: ParsableCommand {
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
            2 config error, 75 --repair while another feedcorpus holds the lock.
            """)

    @OptionGroup var options: CommonOptions

    @Flag(help: "Repair what can be repaired from the state.")
    var repair = false

    @Flag(help: "One JSON document instead of text.")
    var json = false

    func run() throws {
        let configuration = try options.loadConfiguration()
        let verifier = CorpusVerifier(corpusRoot: configuration.corpusDirectory, statePath: configuration.statePath,
                                      layout: configuration.layout == .flat ? .flat : .daily)
        let report: CorpusVerifier.Report
        do {
            report = try verifier.run(repair: repair)
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(error.description)\n".utf8))
            throw ExitCode(ExitStatus.of(error))
        }
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
            if report.runInProgress { print("note: a run holds the lock; temporary files were not checked") }
            let repaired = report.problems.count - report.remaining.count
            print("checked \(FetchCommand.plural(report.files, "story file")) in \(FetchCommand.plural(report.folders, "folder")) against "
                  + "\(FetchCommand.plural(report.recorded, "state record")): "
                  + (report.problems.isEmpty ? "consistent"
                     : "\(FetchCommand.plural(report.problems.count, "problem")), \(repaired) repaired, \(report.remaining.count) remaining"
                       + (repair || !report.remaining.contains { $0.kind.isRepairable } ? "" : " (run with --repair)")))
        }
        if !report.remaining.isEmpty { throw ExitCode(1) }
    }
}
