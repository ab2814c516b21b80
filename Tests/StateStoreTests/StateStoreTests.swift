import FeedModel
import Foundation
@testable import StateStore
import Testing

func record(_ file: String, sha: String) -> StoryRecord {
    StoryRecord(file: file, sha256: sha, simhash: "00000000000000ff", url: "https://news.example/\(file)", feed: "f",
                feedURL: "https://news.example/rss", entryID: "e", title: "T", published: nil,
                fetched: Date(timeIntervalSince1970: 1_730_721_600), language: nil, textSource: .feed)
}

@Suite struct StateStoreTests {
    func freshPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString)/state.sqlite").path
    }

    /// Every commit syncs the WAL; checkpoints come every 64 MB of it, not SQLite's 4 MB, so a
    /// large pass's scattered index pages are copied into the database once per checkpoint.
    @Test func theStateSyncsEveryCommitAndCheckpointsEvery64MB() throws {
        let path = freshPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let state = try StateStore(path: path)
        #expect(try state.db.query("PRAGMA journal_mode").first?.first == .text("wal"))
        #expect(try state.db.query("PRAGMA synchronous").first?.first?.int == 2)  // FULL
        #expect(try state.db.query("PRAGMA wal_autocheckpoint").first?.first?.int == 16384)
        #expect(try state.db.query("PRAGMA journal_size_limit").first?.first?.int == 64 << 20)
    }

    /// `status`, `check` and `verify` open the state read-only: it reads, it never writes, and a
    /// state of an older schema is named, not migrated behind the operator's back.
    @Test func aReadOnlyStateReadsButNeverWritesOrMigrates() throws {
        let path = freshPath()
        do {
            let state = try StateStore(path: path)
            _ = try state.feedID(url: "https://news.example/rss", name: "news")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let readOnly = try StateStore.openReadOnly(path: path)
        #expect(try readOnly.storyCount() == 0)
        #expect(throws: StateStoreError.self) { _ = try readOnly.markDue(urls: nil, now: Date()) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        // The writers' way in still works beside it.
        #expect(try StateStore.openExisting(path: path).markDue(urls: nil, now: Date()) == 1)

        let missing = freshPath()
        #expect(throws: StateStoreError.self) { _ = try StateStore.openReadOnly(path: missing) }
        #expect(!FileManager.default.fileExists(atPath: missing))

        let old = freshPath()
        _ = try StateStore(path: old)
        let downgrade = Process()
        downgrade.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        downgrade.arguments = ["python3", "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version = 5'); c.commit()", old]
        try downgrade.run()
        downgrade.waitUntilExit()
        do {
            _ = try StateStore.openReadOnly(path: old)
            Issue.record("an older state opened read-only")
        } catch {
            #expect(error.description.contains("older than this feedcorpus's") && error.description.contains("upgrades it"), "\(error)")
        }
    }

    @Test func recordsStoriesEntriesAndValidatorsAcrossReopen() throws {
        let path = freshPath()
        do {
            let state = try StateStore(path: path)
            let feed = try state.feedID(url: "https://news.example/rss", name: "news")
            #expect(try state.feedID(url: "https://news.example/rss", name: "news") == feed)
            try state.commit(FeedPollCommit(
                feedID: feed, polledAt: Date(), result: .ok,
                http: FeedHTTPState(etag: "\"v1\"", lastModified: "Mon, 04 Nov 2024 12:00:00 GMT", bodySHA256: "abc"),
                stored: [StoryCommit(entryKey: "id:1", record: record("2024-11-04/000_aaaaaaaaaaaaaaaa.txt", sha: "aa"))],
                emptyEntryKeys: ["id:empty"]))
        }
        let state = try StateStore(path: path)
        let feed = try state.feedID(url: "https://news.example/rss", name: "news")
        #expect(try state.seenEntryKeys(feedID: feed, among: ["id:1", "id:2", "id:empty"]) == ["id:1", "id:empty"])
        #expect(try state.httpState(feedID: feed) == FeedHTTPState(etag: "\"v1\"", lastModified: "Mon, 04 Nov 2024 12:00:00 GMT", bodySHA256: "abc"))
        #expect(try state.story(sha256: "aa")?.file == "2024-11-04/000_aaaaaaaaaaaaaaaa.txt")
        #expect(try state.story(sha256: "bb") == nil)
        #expect(try state.storyCount() == 1)
        let files = try state.storedFiles()
        #expect(files.keys.sorted() == ["2024-11-04/000_aaaaaaaaaaaaaaaa.txt"])
        #expect(files.values.first?.contains("\"sha256\":\"aa\"") == true)
    }

    /// The exact-key lookups answer from memory for keys no story has, and still find every
    /// stored story by each key: those stored before the keys were loaded, those committed after,
    /// and all of them again from a reopened state.
    @Test func exactKeyLookupsFindEveryStoredStoryWhetherStoredBeforeOrAfterTheKeysWereRead() throws {
        let path = freshPath()
        func story(_ n: Int) -> StoryCommit {
            var stored = record("d/00\(n)_aaaaaaaaaaaaaaa\(n).txt", sha: "sha-\(n)")
            stored.url = "https://news.example/\(n)"
            stored.entryID = "urn:story:\(n)"
            return StoryCommit(entryKey: "id:\(n)", record: stored)
        }
        func expectFound(_ state: StateStore, _ n: Int) throws {
            let file = story(n).record.file
            #expect(try state.story(sha256: "sha-\(n)")?.file == file)
            #expect(try state.story(url: "https://news.example/\(n)")?.file == file)
            #expect(try state.story(entryID: "urn:story:\(n)")?.file == file)
        }
        do {
            let state = try StateStore(path: path)
            let feed = try state.feedID(url: "https://news.example/rss", name: "news")
            try state.commit(FeedPollCommit(feedID: feed, polledAt: Date(), result: .ok, stored: [story(1)]))
            try expectFound(state, 1)  // the keys are read here
            #expect(try state.story(sha256: "sha-2") == nil && state.story(url: "https://news.example/2") == nil)
            #expect(try state.story(entryID: "urn:story:2") == nil)
            // A key of one kind is not found as another.
            #expect(try state.story(url: "sha-1") == nil && state.story(entryID: "https://news.example/1") == nil)
            try state.commit(FeedPollCommit(feedID: feed, polledAt: Date(), result: .ok, stored: [story(2)]))
            try expectFound(state, 2)
        }
        let reopened = try StateStore(path: path)
        try expectFound(reopened, 1)
        try expectFound(reopened, 2)
        #expect(try reopened.story(sha256: "sha-3") == nil)
    }

    @Test func duplicatesAreTraceableToTheStoredStory() throws {
        let state = try StateStore(path: freshPath())
        let feed = try state.feedID(url: "https://a.example/rss", name: "a")
        try state.commit(FeedPollCommit(feedID: feed, polledAt: Date(), result: .ok,
                                        stored: [StoryCommit(entryKey: "id:1", record: record("d/000_aaaaaaaaaaaaaaaa.txt", sha: "aa"))]))
        let detected = Date(timeIntervalSince1970: 1_730_800_000)
        try state.commit(FeedPollCommit(feedID: feed, polledAt: detected, result: .ok, duplicates: [
            DuplicateRecord(feedURL: "https://a.example/rss", entryKey: "id:2", url: "https://a.example/2", title: "Copy",
                            reason: .sameText, duplicateOf: "d/000_aaaaaaaaaaaaaaaa.txt", detectedAt: detected),
        ]))
        let duplicates = try state.duplicates()
        #expect(duplicates.count == 1)
        #expect(duplicates.first?.duplicateOf == "d/000_aaaaaaaaaaaaaaaa.txt")
        #expect(duplicates.first?.reason == .sameText)
        #expect(try state.duplicates(since: detected.addingTimeInterval(1)).isEmpty)
        #expect(try state.seenEntryKeys(feedID: feed, among: ["id:2"]) == ["id:2"])
    }

    @Test func aFailedCommitChangesNothing() throws {
        let state = try StateStore(path: freshPath())
        let feed = try state.feedID(url: "https://a.example/rss", name: "a")
        // The same sha256 twice violates the UNIQUE constraint: the whole poll rolls back.
        #expect(throws: StateStoreError.self) {
            try state.commit(FeedPollCommit(feedID: feed, polledAt: Date(), result: .ok, stored: [
                StoryCommit(entryKey: "id:1", record: record("d/000_aaaaaaaaaaaaaaaa.txt", sha: "aa")),
                StoryCommit(entryKey: "id:2", record: record("d/001_bbbbbbbbbbbbbbbb.txt", sha: "aa")),
            ]))
        }
        #expect(try state.storyCount() == 0)
        #expect(try state.seenEntryKeys(feedID: feed, among: ["id:1"]).isEmpty)
    }

    @Test func failedPollsCountConsecutiveErrors() throws {
        let state = try StateStore(path: freshPath())
        let feed = try state.feedID(url: "https://a.example/rss", name: "a")
        try state.commit(FeedPollCommit(feedID: feed, polledAt: Date(), result: .error, error: "HTTP 500"))
        try state.commit(FeedPollCommit(feedID: feed, polledAt: Date(), result: .error, error: "HTTP 502"))
        #expect(try state.feedStatus(feedID: feed) == FeedPollStatus(lastResult: .error, lastError: "HTTP 502", consecutiveErrors: 2))
        try state.commit(FeedPollCommit(feedID: feed, polledAt: Date(), result: .ok))
        #expect(try state.feedStatus(feedID: feed) == FeedPollStatus(lastResult: .ok, lastError: nil, consecutiveErrors: 0))
    }
}

@Suite struct NextDueTests {
    @Test func earliestEnabledFeedDecides() throws {
        let state = try StateStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("due-\(UUID().uuidString).sqlite").path)
        #expect(try state.nextDue(feedURLs: []) == .distantFuture)  // nothing to poll: sleep
        #expect(try state.nextDue(feedURLs: ["https://never.example/rss"]) == nil)  // never polled: due now
        let a = try state.feedID(url: "https://a.example/rss", name: "a")
        let b = try state.feedID(url: "https://b.example/rss", name: "b")
        let soon = Date(timeIntervalSince1970: 2_000_000_000)
        try state.commit(FeedPollCommit(feedID: a, polledAt: Date(), result: .ok, schedule: FeedSchedule(nextPollAt: soon.addingTimeInterval(60))))
        try state.commit(FeedPollCommit(feedID: b, polledAt: Date(), result: .ok, schedule: FeedSchedule(nextPollAt: soon)))
        #expect(try state.nextDue(feedURLs: ["https://a.example/rss", "https://b.example/rss"]) == soon)
        try state.commit(FeedPollCommit(feedID: b, polledAt: Date(), result: .error, schedule: FeedSchedule(nextPollAt: soon, disabledReason: "HTTP 410")))
        #expect(try state.nextDue(feedURLs: ["https://a.example/rss", "https://b.example/rss"]) == soon.addingTimeInterval(60))
    }
}

@Suite struct StoredFilesByFolderTests {
    @Test func onlyTheAskedFoldersAreRead() throws {
        let state = try StateStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("folders-\(UUID().uuidString).sqlite").path)
        let feed = try state.feedID(url: "https://a.example/rss", name: "a")
        try state.commit(FeedPollCommit(feedID: feed, polledAt: Date(), result: .ok, stored: [
            StoryCommit(entryKey: "1", record: record("2024-11-03/000_aaaaaaaaaaaaaaaa.txt", sha: "a1")),
            StoryCommit(entryKey: "2", record: record("2024-11-04/000_bbbbbbbbbbbbbbbb.txt", sha: "b1")),
            StoryCommit(entryKey: "3", record: record("2024-11-040/000_cccccccccccccccc.txt", sha: "c1")),
            StoryCommit(entryKey: "4", record: record("000_dddddddddddddddd.txt", sha: "d1")),
        ]))
        #expect(try state.storedFiles(inFolders: ["2024-11-04"]).keys.sorted() == ["2024-11-04/000_bbbbbbbbbbbbbbbb.txt"])
        #expect(try state.storedFiles(inFolders: [""]).keys.sorted() == ["000_dddddddddddddddd.txt"])
        #expect(try state.storedFiles(inFolders: ["2024-11-03", "2024-11-04"]).count == 2)
    }
}
