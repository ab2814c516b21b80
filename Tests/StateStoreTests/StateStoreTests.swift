import FeedModel
import Foundation
@testable import StateStore
import Testing

func record(_ file: String, sha: String) -> StoryRecord {
    StoryRecord(file: file, sha256: sha, simhash: "00000000000000ff", url: "https://news.example/\(file)", feed: "f",
                feedURL: "https://news.example/rss", entryID: "e", title: "T", published: nil,
                fetched: Date(timeIntervalSince1970: 1_730_721_600), language: nil, textSource: .feed)
}

/// Story `n` with its own text hash, URL and entry id (and fingerprints that say `n`).
func keyedStory(_ n: Int) -> StoryCommit {
    var stored = record("d/00\(n)_aaaaaaaaaaaaaaa\(n).txt", sha: "sha-\(n)")
    stored.url = "https://news.example/\(n)"
    stored.entryID = "urn:story:\(n)"
    return StoryCommit(entryKey: "id:\(n)", record: stored, simhash: UInt64(n), minhash: [1, 2, UInt8(n)], eventTerms: "t\(n)")
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
        let story = keyedStory
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
        // The same sha256 twice in one poll is refused: the whole poll rolls back.
        do {
            try state.commit(FeedPollCommit(feedID: feed, polledAt: Date(), result: .ok, stored: [
                StoryCommit(entryKey: "id:1", record: record("d/000_aaaaaaaaaaaaaaaa.txt", sha: "aa")),
                StoryCommit(entryKey: "id:2", record: record("d/001_bbbbbbbbbbbbbbbb.txt", sha: "aa")),
            ]))
            Issue.record("a second story with the same text was committed")
        } catch {
            #expect(error.description.contains("already stored as d/000_aaaaaaaaaaaaaaaa.txt"), "\(error)")
        }
        #expect(try state.storyCount() == 0)
        #expect(try state.seenEntryKeys(feedID: feed, among: ["id:1"]).isEmpty)
        // The rolled-back story is not found, and its row id, taken again by another story, does
        // not make that story answer for the rolled-back text.
        #expect(try state.story(sha256: "aa") == nil)
        try state.commit(FeedPollCommit(feedID: feed, polledAt: Date(), result: .ok, stored: [
            StoryCommit(entryKey: "id:3", record: record("d/002_cccccccccccccccc.txt", sha: "cc")),
        ]))
        #expect(try state.story(sha256: "aa") == nil)
        #expect(try state.story(sha256: "cc")?.file == "d/002_cccccccccccccccc.txt")
        // A later poll cannot store the text again either, in this process or after a reopen.
        let again = FeedPollCommit(feedID: feed, polledAt: Date(), result: .ok, stored: [
            StoryCommit(entryKey: "id:4", record: record("d/003_dddddddddddddddd.txt", sha: "cc")),
        ])
        #expect(throws: StateStoreError.self) { try state.commit(again) }
        #expect(throws: StateStoreError.self) { try StateStore(path: state.path).commit(again) }
        #expect(try state.storyCount() == 1)
    }

    /// Version 8 drops the indexes on the stories' text hash, URL and entry id (the lookups are
    /// answered in memory). An existing version-7 state is upgraded in place: every row, id and
    /// reference kept, foreign keys still enforced, every story still found by each key.
    @Test func aVersion7StateIsUpgradedWithoutTheRandomKeyIndexes() throws {
        let path = freshPath()
        let story = keyedStory
        let feed: Int64
        do {
            let old = try StateStore(path: path, schemaVersion: 7)
            #expect(try old.db.query("PRAGMA user_version").first?.first?.int == 7)
            feed = try old.feedID(url: "https://news.example/rss", name: "news")
            try old.commit(FeedPollCommit(feedID: feed, polledAt: Date(), result: .ok, stored: (1...5).map(story), duplicates: [
                DuplicateRecord(feedURL: "https://news.example/rss", entryKey: "id:9", url: nil, title: nil, reason: .sameText,
                                duplicateOf: story(2).record.file, detectedAt: Date()),
            ]))
            let indexes = try old.db.query("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'stories'").map { "\($0)" }
            #expect(indexes.contains { $0.contains("stories_url") })
        }
        let state = try StateStore(path: path)
        #expect(try state.db.query("PRAGMA user_version").first?.first?.int == 8)
        #expect(try state.db.query("PRAGMA foreign_keys").first?.first?.int == 1)
        #expect(try state.db.query("PRAGMA foreign_key_check").isEmpty)
        // Left: the unique file index, fetched_at and (feed, published); nothing on the random keys.
        let indexed = try state.db.query("""
            SELECT ii.name FROM sqlite_master m, pragma_index_list(m.name) il, pragma_index_info(il.name) ii
            WHERE m.name = 'stories'
            """).compactMap { $0.first?.string }
        #expect(Set(indexed) == ["file", "fetched_at", "feed_id", "published_at"], "\(indexed)")
        #expect(try state.storyCount() == 5)
        for n in 1...5 {
            let file = story(n).record.file
            #expect(try state.story(sha256: "sha-\(n)")?.file == file)
            #expect(try state.story(url: "https://news.example/\(n)")?.file == file)
            #expect(try state.story(entryID: "urn:story:\(n)")?.file == file)
            let row = try state.db.query("SELECT simhash, minhash, event_terms FROM stories WHERE file = ?", [.text(file)]).first
            #expect(row == [.integer(Int64(n)), .blob([1, 2, UInt8(n)]), .text("t\(n)")])
        }
        #expect(try state.duplicates().map(\.duplicateOf) == [story(2).record.file])
        #expect(try state.seenEntryKeys(feedID: feed, among: ["id:1", "id:9"]) == ["id:1", "id:9"])
        // References are still enforced on the rebuilt table.
        #expect(throws: StateStoreError.self) {
            try state.db.query("INSERT INTO duplicates(feed_id, entry_key, reason, duplicate_of, detected_at) VALUES(?, 'x', 'same_text', 999, 0)",
                               [.integer(feed)])
        }
        try state.commit(FeedPollCommit(feedID: feed, polledAt: Date(), result: .ok, stored: [story(6)]))
        #expect(try state.story(url: "https://news.example/6")?.file == story(6).record.file)
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

@Suite struct StoredKeyIndexTests {
    /// Every added key names its row among its candidates, through several growths; a key of
    /// another kind or never added names (nearly) none; row ids beyond 32 bits are kept too.
    @Test func everyAddedKeyNamesItsRowThroughGrowth() {
        var index = StoredKeyIndex()
        let count = 50_000
        for n in 1...count {
            index.insert(.sha256, "sha-\(n)", rowID: Int64(n))
            index.insert(.url, "https://news.example/\(n)", rowID: Int64(n))
        }
        index.insert(.entryID, "urn:far", rowID: Int64(UInt32.max) + 7)
        index.insert(.url, "https://news.example/7", rowID: 70_000)  // a second story with one URL
        #expect(index.count == 2 * count + 2)
        for n in 1...count {
            #expect(index.candidates(.sha256, "sha-\(n)").contains(Int64(n)))
        }
        #expect(Set(index.candidates(.url, "https://news.example/7")).isSuperset(of: [7, 70_000]))
        #expect(index.candidates(.entryID, "urn:far") == [Int64(UInt32.max) + 7])
        // Keys never added: a candidate needs the same 32-bit tag, so among 50,000 misses at most a
        // handful may name a row (the table then rules it out).
        var falseCandidates = 0
        for n in 1...count {
            falseCandidates += index.candidates(.sha256, "other-\(n)").count
            falseCandidates += index.candidates(.entryID, "sha-\(n)").count  // the kind is part of the key
        }
        #expect(falseCandidates <= 5, "\(falseCandidates)")
    }
}
