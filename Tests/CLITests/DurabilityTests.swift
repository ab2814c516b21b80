import Foundation
import TestSupport
import Testing

/// `feedcorpus verify`, and writing into a full file system, through the binary.
@Suite(.offTheCooperativePool, .serialized) final class DurabilityTests {
    let workspace: URL
    let server: TestHTTPServer
    var mounted: String?

    init() throws {
        workspace = try TemporaryFolder.make(prefix: "durability")
        server = try TestHTTPServer()
    }

    deinit {
        if let mounted { _ = try? Self.command("/bin/umount", [mounted]) }
        server.stop()
    }

    @discardableResult
    static func command(_ path: String, _ arguments: [String]) throws -> CLITests.Run {
        try CLITests.run(URL(fileURLWithPath: path), arguments)
    }

    func feedcorpus(_ arguments: [String], fileSizeLimit: Int? = nil) throws -> CLITests.Run {
        if let fileSizeLimit {
            return try Self.command("/usr/bin/prlimit", ["--fsize=\(fileSizeLimit)", "--", CLITests.binary.path] + arguments)
        }
        return try Self.command(CLITests.binary.path, arguments)
    }

    /// Whether this machine lets the test mount a tmpfs (root, not in a restricted container).
    static let canMountTmpfs: Bool = {
        guard let folder = try? TemporaryFolder.make(prefix: "tmpfs-probe") else { return false }
        defer { try? FileManager.default.removeItem(at: folder) }
        guard (try? command("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", folder.path]))?.status == 0 else { return false }
        _ = try? command("/bin/umount", [folder.path])
        return true
    }()

    func writeConfig(_ items: [FeedFixtures.Item]) throws -> String {
        try server.put("d.xml", FeedFixtures.rss(title: "D", items: items))
        let path = workspace.appendingPathComponent("feedcorpus.yaml").path
        try Data("""
            corpus: corpus
            state: state/feedcorpus.sqlite
            fetch: {host_delay: 0}
            feeds:
              - {url: "\(server.url("novalidators/d.xml"))", name: d, fulltext: never}

            """.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func corpusFiles() -> [String] {
        let root = workspace.appendingPathComponent("corpus").path
        return (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter { !$0.hasSuffix("/") }.sorted()
    }

    static func item(_ id: String, bytes: Int = 200) -> FeedFixtures.Item {
        var generator = SystemRandomNumberGenerator()
        var words: [String] = []
        var size = 0
        while size < bytes {
            let word = String((0..<7).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement(using: &generator) ?? "a" })
            words.append(word)
            size += 8
        }
        return FeedFixtures.Item(guid: id, title: "Story \(id)", paragraphs: [words.joined(separator: " ") + "."])
    }

    @Test func verifyFindsAndRepairsWhatTheStateCanRepair() throws {
        let config = try writeConfig([Self.item("v1"), Self.item("v2"), Self.item("v3")])
        #expect(try feedcorpus(["fetch", "--once", "--all", "--config", config]).status == 0)
        let clean = try feedcorpus(["verify", "--config", config])
        #expect(clean.status == 0)
        #expect(clean.stdout.contains("checked 3 story files in 1 folder against 3 state records: consistent"))

        let files = corpusFiles().filter { $0.hasSuffix(".txt") }
        let day = try #require(files.first.map { ($0 as NSString).deletingLastPathComponent })
        let folder = workspace.appendingPathComponent("corpus/\(day)")
        // Damage of every kind: debris, a stray story file, a lost line, an edited story.
        try Data("half a story".utf8).write(to: folder.appendingPathComponent(".tmp-007_0123456789abcdef.txt"))
        try Data("Stray\nA file no run recorded.\n".utf8).write(to: folder.appendingPathComponent("042_0123456789abcdef.txt"))
        let manifest = folder.appendingPathComponent("manifest.jsonl")
        let lines = try String(contentsOf: manifest, encoding: .utf8).split(separator: "\n")
        try Data((lines.dropFirst().joined(separator: "\n") + "\n").utf8).write(to: manifest)
        let edited = workspace.appendingPathComponent("corpus/\(files[2])")
        try Data("Edited\nSomeone changed this file.\n".utf8).write(to: edited)

        let found = try feedcorpus(["verify", "--json", "--config", config])
        #expect(found.status == 1)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(found.stdout.utf8)) as? [String: Any])
        let problems = try #require(report["problems"] as? [[String: Any]])
        #expect(Set(problems.compactMap { $0["kind"] as? String }) == ["temporary_file", "unrecorded_file", "manifest", "changed_file"])
        #expect(problems.allSatisfy { $0["repaired"] as? Bool == false })

        let repaired = try feedcorpus(["verify", "--repair", "--config", config])
        #expect(repaired.status == 1)  // the edited file can only come back from a backup
        #expect(repaired.stdout.contains("repaired temporary_file"))
        #expect(repaired.stdout.contains("repaired unrecorded_file"))
        #expect(repaired.stdout.contains("repaired manifest"))
        #expect(repaired.stdout.contains("PROBLEM  changed_file: \(files[2])"))
        #expect(FileManager.default.fileExists(atPath: workspace.appendingPathComponent("state/quarantine/\(day)/042_0123456789abcdef.txt").path))
        let rewritten = try String(contentsOf: manifest, encoding: .utf8).split(separator: "\n")
        #expect(rewritten.count == 3)
        #expect(Array(rewritten) == lines)  // the state's lines, in the order they were stored

        let unrepairable = try feedcorpus(["verify", "--config", config])
        #expect(unrepairable.stdout.hasSuffix("1 problem, 0 repaired, 1 remaining\n"))  // no "--repair" hint: it cannot help
        let after = try feedcorpus(["verify", "--json", "--config", config])
        let left = try #require(try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any])
        #expect((left["problems"] as? [[String: Any]])?.compactMap { $0["kind"] as? String } == ["changed_file"])
    }

    @Test func aFileSizeLimitFailsTheStoryCleanlyAndItIsStoredLater() throws {
        let small = Self.item("s1")
        let big = Self.item("b1", bytes: 300_000)
        let config = try writeConfig([small])
        #expect(try feedcorpus(["fetch", "--once", "--all", "--config", config]).status == 0)
        try server.put("d.xml", FeedFixtures.rss(title: "D", items: [big, small]))

        let limited = try feedcorpus(["fetch", "--once", "--all", "--config", config], fileSizeLimit: 200_000)
        #expect(limited.status == 1)
        #expect(limited.stdout.contains("FAILED"))
        #expect(limited.stdout.contains("File too large"))
        #expect(limited.stdout.contains("ulimit -f"))
        #expect(!corpusFiles().contains { $0.contains(".tmp-") })
        #expect(corpusFiles().filter { $0.hasSuffix(".txt") }.count == 1)
        #expect(try feedcorpus(["verify", "--config", config]).status == 0)
        // A storage failure is a feed failure: logged, and the feed backs off like any other
        // (it is not polled again every second).
        #expect(limited.stderr.contains("storing stories failed"), "\(limited.stderr)")
        let status = try feedcorpus(["status", "--json", "--config", config])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let feed = try #require((object["feeds"] as? [[String: Any]])?.first)
        #expect(feed["consecutive_errors"] as? Int == 1)
        let nextDue = try #require((feed["next_due"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) })
        #expect(nextDue.timeIntervalSinceNow > 60, "next due \(nextDue)")

        let later = try feedcorpus(["fetch", "--once", "--all", "--config", config])
        #expect(later.status == 0)
        #expect(later.stdout.contains("1 story stored"))
        let stored = corpusFiles().filter { $0.hasSuffix(".txt") }
        #expect(stored.count == 2)
        let text = try String(contentsOf: workspace.appendingPathComponent("corpus/\(try #require(stored.last))"), encoding: .utf8)
        #expect(text.hasPrefix("Story b1\n") && text.utf8.count > 300_000)
        #expect(try feedcorpus(["verify", "--config", config]).status == 0)
    }

    @Test(.enabled(if: DurabilityTests.canMountTmpfs, "needs permission to mount a tmpfs"))
    func aFullFileSystemFailsTheStoryCleanlyAndItIsStoredOnceThereIsSpace() throws {
        let corpus = workspace.appendingPathComponent("corpus")
        try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
        #expect(try Self.command("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", corpus.path]).status == 0)
        mounted = corpus.path
        let config = try writeConfig([Self.item("f1", bytes: 200_000)])
        // Leave about 100 KB free.
        let filler = corpus.appendingPathComponent("filler")
        try Data(count: 1024 * 1024 - 100 * 1024).write(to: filler)

        let full = try feedcorpus(["fetch", "--once", "--all", "--config", config])
        #expect(full.status == 1)
        #expect(full.stdout.contains("No space left on device"))
        #expect(full.stdout.contains("free some space"))
        #expect(corpusFiles().filter { $0 != "filler" && !$0.hasSuffix("manifest.jsonl") && !$0.hasSuffix("/") }.allSatisfy { !$0.contains(".txt") && !$0.contains(".tmp-") })

        try FileManager.default.removeItem(at: filler)
        let later = try feedcorpus(["fetch", "--once", "--all", "--config", config])
        #expect(later.status == 0)
        #expect(later.stdout.contains("1 story stored"))
        #expect(corpusFiles().filter { $0.hasSuffix(".txt") }.count == 1)
        #expect(try feedcorpus(["verify", "--config", config]).status == 0)
    }
}
