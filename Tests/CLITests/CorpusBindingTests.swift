import Foundation
import TestSupport
import Testing

/// A corpus is bound to the state that writes it: another configuration's state, a new state or
/// a zero-length state never treats its stories as debris, and unknown files are moved to the
/// quarantine, never deleted.
@Suite(.offTheCooperativePool, .serialized) final class CorpusBindingTests {
    let workspace: URL
    let server: TestHTTPServer

    init() throws {
        workspace = try TemporaryFolder.make(prefix: "binding")
        server = try TestHTTPServer()
        try server.put("d.xml", FeedFixtures.rss(title: "D", items: (1...3).map { DurabilityTests.item("b\($0)") }))
    }

    deinit { server.stop() }

    func feedcorpus(_ arguments: [String]) throws -> CLITests.Run {
        try CLITests.run(CLITests.binary, arguments)
    }

    /// A config named `name` whose state lives in its own folder and whose corpus is shared.
    func config(_ name: String) throws -> String {
        let path = workspace.appendingPathComponent("\(name).yaml").path
        try Data("""
            corpus: corpus
            state: \(name)/feedcorpus.sqlite
            fetch: {host_delay: 0}
            feeds:
              - {url: "\(server.url("novalidators/d.xml"))", name: d, fulltext: never}

            """.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func storyFiles(in folder: String = "corpus") -> [String] {
        let root = workspace.appendingPathComponent(folder).path
        return (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".txt") }.sorted()
    }

    @Test func aSecondConfigSharingTheCorpusIsRefusedAndDeletesNothing() throws {
        let first = try config("first")
        #expect(try feedcorpus(["fetch", "--once", "--config", first]).status == 0)
        let stored = storyFiles()
        #expect(stored.count == 3)
        #expect(FileManager.default.fileExists(atPath: workspace.appendingPathComponent("corpus/.feedcorpus-id").path))

        let second = try config("second")
        for command in [["fetch", "--once"], ["verify", "--repair"]] {
            let run = try feedcorpus(command + ["--config", second])
            #expect(run.status == 2, "\(command): \(run.stdout) \(run.stderr)")
            #expect(run.stderr.contains("was written by another state file"), "\(run.stderr)")
            #expect(run.stderr.contains("give this one its own `corpus:`"), "\(run.stderr)")
        }
        #expect(storyFiles() == stored)
        #expect(!FileManager.default.fileExists(atPath: workspace.appendingPathComponent("second/quarantine").path))
        // The first config goes on as before.
        #expect(try feedcorpus(["fetch", "--once", "--all", "--config", first]).status == 0)
        #expect(try feedcorpus(["verify", "--config", first]).status == 0)
    }

    @Test func aZeroLengthStateIsRefusedAndTheStoriesStay() throws {
        let first = try config("first")
        #expect(try feedcorpus(["fetch", "--once", "--config", first]).status == 0)
        let stored = storyFiles()
        let state = workspace.appendingPathComponent("first/feedcorpus.sqlite").path
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: state + suffix) }
        #expect(truncate(state, 0) == 0)
        let run = try feedcorpus(["fetch", "--once", "--config", first])
        #expect(run.status == 2)
        #expect(run.stderr.contains("this state is new or has never written to it"), "\(run.stderr)")
        #expect(storyFiles() == stored)
    }

    @Test func takingTheCorpusOverOnPurposeQuarantinesInsteadOfDeleting() throws {
        let first = try config("first")
        #expect(try feedcorpus(["fetch", "--once", "--config", first]).status == 0)
        let stored = storyFiles()
        try FileManager.default.removeItem(at: workspace.appendingPathComponent("corpus/.feedcorpus-id"))
        let second = try config("second")
        let run = try feedcorpus(["fetch", "--once", "--config", second])
        #expect(run.status == 0, "\(run.stderr)")
        // The first state's files are in the second's quarantine, byte for byte, not gone.
        #expect(storyFiles(in: "second/quarantine") == stored)
        #expect(storyFiles().count == 3)  // the second state stored the stories again itself
        #expect(try feedcorpus(["verify", "--config", second]).status == 0)
    }

    @Test func symbolicLinksInTheCorpusAreNotFollowed() throws {
        let first = try config("first")
        #expect(try feedcorpus(["fetch", "--once", "--config", first]).status == 0)
        let day = try #require(try FileManager.default.contentsOfDirectory(atPath: workspace.appendingPathComponent("corpus").path)
            .first { $0.hasPrefix("20") })
        let manifest = workspace.appendingPathComponent("corpus/\(day)/manifest.jsonl")
        let elsewhere = workspace.appendingPathComponent("elsewhere.txt")
        try Data("not a manifest\n".utf8).write(to: elsewhere)
        try FileManager.default.removeItem(at: manifest)
        try FileManager.default.createSymbolicLink(at: manifest, withDestinationURL: elsewhere)
        try server.put("d.xml", FeedFixtures.rss(title: "D", items: [DurabilityTests.item("new")]))
        let run = try feedcorpus(["fetch", "--once", "--all", "--config", first])
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        // Start-up repair replaced the link with a real manifest; the file it pointed at is untouched.
        #expect(try String(contentsOf: elsewhere, encoding: .utf8) == "not a manifest\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: manifest.path)
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        #expect(try String(contentsOf: manifest, encoding: .utf8).split(separator: "\n").count == 4)
    }
}
