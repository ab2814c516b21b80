import ClusterState
import CorpusWriter
import FeedModel
import Foundation
import Logging
import Materializer
import TestSupport
import Testing

/// `Materializer` against a real PostgreSQL server on 127.0.0.1 (skipped where PostgreSQL is not
/// installed, unless FEEDCORPUS_REQUIRE_POSTGRES=1, as in CI) and real corpus folders.
@Suite(.offTheCooperativePool, .serialized, .enabled(if: TestPostgres.available, "PostgreSQL's server programs are not installed (apt-get install postgresql)"))
final class MaterializerTests {
    let server: TestPostgres
    let folder: URL

    init() throws {
        server = try TestPostgres()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("materializer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    func withDatabase<T: Sendable>(_ body: (ClusterDatabase) async throws -> T) async throws -> T {
        try await ClusterDatabase.withDatabase(url: try #require(ClusterDatabaseURL(server.url)), logger: Logger(label: "test"), maxConnections: 4) { try await body($0) }
    }

    /// A story as a worker commits it: its record (without a file name) and its file's text.
    static func story(_ number: Int, feed: String, fetched: Date) throws -> ClusterStory {
        let text = StoryText(headline: "Story \(number) of \(feed)",
                             paragraphs: ["Paragraph one of story \(number), told by \(feed).", "Paragraph two, with the figure \(number * 7)."])
        let sha = String(repeating: String(format: "%02x", number % 256), count: 32)
        let record = StoryRecord(file: "", sha256: sha, simhash: String(format: "%016x", number), url: "https://\(feed).example/\(number)",
                                 feed: feed, feedURL: "https://\(feed).example/feed", entryID: nil, title: text.headline, published: fetched,
                                 fetched: fetched, language: "en", textSource: .feed)
        return ClusterStory(entryKey: "key-\(number)", sha256: sha, url: record.url, entryID: nil, record: try record.jsonLine(),
                            text: text.fileContents)
    }

    /// Commits `count` stories over two feeds, the first half fetched on one day and the rest on
    /// the next, each story a commit of its own (alternating feeds), as several workers would.
    func commitStories(_ database: ClusterDatabase, count: Int) async throws {
        try await database.register([ClusterFeed(url: "https://a.example/feed", name: "a", host: "a.example"),
                                     ClusterFeed(url: "https://b.example/feed", name: "b", host: "b.example")])
        let dayOne = Date(timeIntervalSince1970: 1_764_633_600 + 23 * 3600)  // 2025-12-02 23:00 UTC
        for number in 0..<count {
            let leases = try await database.claim(worker: "w", limit: 2, perHost: 1, lease: .seconds(60))
            let feedName = number % 2 == 0 ? "a" : "b"
            let lease = try #require(leases.first { $0.name == feedName })
            for other in leases where other != lease {
                try await database.commitPoll(ClusterPollCommit(nextPollAt: Date(timeIntervalSinceNow: -1), result: "ok"), under: other)
            }
            let fetched = dayOne.addingTimeInterval(number < count / 2 ? 0 : 7200)
            try await database.commitPoll(ClusterPollCommit(stories: [try Self.story(number, feed: feedName, fetched: fetched)],
                                                            nextPollAt: Date(timeIntervalSinceNow: -1), result: "ok"), under: lease)
        }
    }

    /// Every file of a folder tree (relative path -> contents), the id and position files aside.
    func tree(_ root: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]))
        for case let url as URL in enumerator where (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
            let relative = String(url.path.dropFirst(root.path.count + 1))
            if [CorpusWriter.idFileName, CorpusWriter.materializedFileName].contains(relative) { continue }
            files[relative] = try Data(contentsOf: url)
        }
        return files
    }

    func drain(_ materializer: Materializer) async throws -> [MaterializedBatch] {
        var batches: [MaterializedBatch] = []
        while let batch = try await materializer.step() { batches.append(batch) }
        return batches
    }

    @Test func twoCopiesAreIdenticalInCommitOrderAndTextsArePrunedOnceBothHaveThem() async throws {
        try await withDatabase { database in
            try await commitStories(database, count: 12)
            let first = try await Materializer(database: database, writer: try CorpusWriter(root: folder.path + "/one", layout: .daily), batchSize: 5)
            let batches = try await drain(first)
            #expect(batches.map(\.files.count) == [5, 5, 2])
            #expect(batches.last?.position == 12)
            let files = batches.flatMap(\.files)
            #expect(files.count == 12)
            #expect(Set(files.map { String($0.prefix(10)) }) == ["2025-12-02", "2025-12-03"])
            // Commit order: story n is the n-th file, named by its folder's sequence and text hash.
            for (number, file) in files.enumerated() {
                let name = (file as NSString).lastPathComponent
                #expect(name.hasSuffix("_" + String(repeating: String(format: "%02x", number), count: 8) + ".txt"), "\(file)")
                let text = try String(contentsOfFile: folder.path + "/one/" + file, encoding: .utf8)
                #expect(text.hasPrefix("Story \(number) of "))
            }
            // One copy registered: it has everything, so every text may go.
            let second = try await Materializer(database: database, writer: try CorpusWriter(root: folder.path + "/two", layout: .daily), batchSize: 7)
            #expect(try await database.pruneTexts() == 0)  // the second copy has nothing yet
            _ = try await drain(second)
            #expect(try tree(folder.appendingPathComponent("one")) == tree(folder.appendingPathComponent("two")))
            #expect(try await database.copies() == [first.name: 12, second.name: 12])
            #expect(try await database.pruneTexts() == 12)
            // A new story after the pruning: both copies take it.
            try await database.commitPoll(ClusterPollCommit(stories: [try Self.story(40, feed: "a", fetched: Date(timeIntervalSince1970: 1_764_820_800))],
                                                            nextPollAt: Date(), result: "ok"),
                                          under: try #require(try await database.claim(worker: "w", limit: 2, perHost: 1, lease: .seconds(60)).first { $0.name == "a" }))
            #expect(try await first.step()?.files.count == 1)
            #expect(try await second.step()?.files.count == 1)
            #expect(try await first.step() == nil)
            #expect(try tree(folder.appendingPathComponent("one")) == tree(folder.appendingPathComponent("two")))
        }
    }

    /// Six stories committed and written to a fresh copy in batches of four: the copy's folder
    /// and its files.
    func sixStoriesInBatchesOfFour(_ database: ClusterDatabase) async throws -> (root: String, files: [String: Data]) {
        try await commitStories(database, count: 6)
        let root = folder.path + "/copy"
        let materializer = try await Materializer(database: database, writer: try CorpusWriter(root: root, layout: .daily), batchSize: 4)
        _ = try await drain(materializer)
        return (root, try tree(URL(fileURLWithPath: root)))
    }

    @Test func aBatchCutShortIsFinishedWithoutWritingAStoryTwice() async throws {
        try await withDatabase { database in
            let (root, before) = try await sixStoriesInBatchesOfFour(database)
            // As if the process died after the second batch's files and manifest lines were
            // durable but before its position was recorded.
            try CorpusWriter(root: root, layout: .daily).recordMaterializedPosition(4)
            _ = try server.psql("UPDATE corpus_copies SET position = 4")
            let restarted = try await Materializer(database: database, writer: try CorpusWriter(root: root, layout: .daily), batchSize: 4)
            let batch = try #require(try await restarted.step())
            #expect(batch.files.isEmpty)
            #expect(batch.alreadyPresent == 2)
            #expect(batch.position == 6)
            #expect(try await restarted.step() == nil)
            #expect(try tree(URL(fileURLWithPath: root)) == before)
        }
    }

    @Test func filesAKilledMaterializerLeftUnlistedAreWrittenAgainUnderTheSameNumbers() async throws {
        try await withDatabase { database in
            let (root, before) = try await sixStoriesInBatchesOfFour(database)
            // As if the process died after the second batch's files were renamed into place but
            // before their manifest lines were appended: the later day's manifest loses its last
            // two lines, a temporary file is left over, the position is the first batch's.
            let days = try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasPrefix("20") }.sorted()
            let manifest = root + "/" + (try #require(days.last)) + "/" + CorpusWriter.manifestName
            let lines = try String(contentsOfFile: manifest, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 3)
            try (lines.prefix(1).joined(separator: "\n") + "\n").write(toFile: manifest, atomically: true, encoding: .utf8)
            try "partial".write(toFile: root + "/" + (try #require(days.last)) + "/.tmp-002_x.txt", atomically: false, encoding: .utf8)
            try CorpusWriter(root: root, layout: .daily).recordMaterializedPosition(4)
            _ = try server.psql("UPDATE corpus_copies SET position = 4")

            let restarted = try await Materializer(database: database, writer: try CorpusWriter(root: root, layout: .daily), batchSize: 4)
            let batch = try #require(try await restarted.step())
            #expect(batch.files.count == 2)
            #expect(try await restarted.step() == nil)
            // The same files under the same numbers, nothing else: the copy equals its first making.
            #expect(try tree(URL(fileURLWithPath: root)) == before)
        }
    }

    @Test func aFolderBehindItsRecordedPositionIsRefusedWithWhatToDo() async throws {
        try await withDatabase { database in
            try await commitStories(database, count: 3)
            let root = folder.path + "/copy"
            _ = try await drain(try await Materializer(database: database, writer: try CorpusWriter(root: root, layout: .daily)))
            try CorpusWriter(root: root, layout: .daily).recordMaterializedPosition(1)  // an older backup of the folder
            await #expect {
                _ = try await Materializer(database: database, writer: try CorpusWriter(root: root, layout: .daily))
            } throws: { error in
                let message = "\(error)"
                return message.contains("holds stories up to 1") && message.contains("recorded 3") && message.contains("fresh folder")
            }
        }
    }

    @Test func aPrunedTextThatACopyStillNeedsIsAClearError() async throws {
        try await withDatabase { database in
            try await commitStories(database, count: 2)
            let first = try await Materializer(database: database, writer: try CorpusWriter(root: folder.path + "/one", layout: .daily))
            _ = try await drain(first)
            #expect(try await database.pruneTexts() == 2)
            // A copy registered after the pruning cannot be made from the state.
            let late = try await Materializer(database: database, writer: try CorpusWriter(root: folder.path + "/late", layout: .daily))
            await #expect {
                _ = try await late.step()
            } throws: { error in
                "\(error)".contains("was pruned") && "\(error)".contains("make it from another copy")
            }
        }
    }
}
