import CFileSync
import FeedModel
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How story files are arranged below the corpus root.
public enum CorpusLayout: String, Sendable, CaseIterable {
    /// One folder per UTC day of ingestion (`2024-11-04/000_….txt`), each with its manifest.
    case daily
    /// All story files and one manifest directly in the corpus root.
    case flat
}

/// A failed file-system operation on the corpus, with the path and the system's reason.
public struct CorpusWriteError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var reason: String

    init(_ operation: String, _ path: String, errno code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.reason = String(cString: strerror(code))
        if code == ENOSPC || code == EDQUOT {
            self.reason += " (free some space; the story is written again on the next run)"
        } else if code == EFBIG {
            self.reason += " (the process's file-size limit, ulimit -f, is too small; the story is written again on the next run)"
        }
    }

    public var description: String { "cannot \(operation) \(path): \(reason)" }
}

/// A story ready to be written: its text and its manifest record (the writer fills in `file`).
public struct PendingStory: Sendable {
    public var text: StoryText
    public var record: StoryRecord
    /// The 16 hex digits that end the file name.
    public var nameTail: String

    public init(text: StoryText, record: StoryRecord, nameTail: String) {
        self.text = text
        self.record = record
        self.nameTail = nameTail
    }
}

/// What start-up reconciliation found and repaired.
public struct ReconcileReport: Sendable, Equatable {
    public var removedTemporaryFiles: [String] = []
    /// Story files a crash left on disk without a state record; removed so the story is
    /// ingested again cleanly.
    public var removedOrphanFiles: [String] = []
    public var repairedManifests: [String] = []

    public var isClean: Bool { removedTemporaryFiles.isEmpty && removedOrphanFiles.isEmpty && repairedManifests.isEmpty }
}

/// Writes story files and manifests into the corpus layout, atomically and durably.
///
/// Per batch: every file is written under a temporary name in its folder, the file system is
/// flushed once, the files are renamed into place, the manifest lines are appended and flushed,
/// and the folder is flushed. Only then may the caller commit the state. A failure part way
/// removes what the batch added, so no partial file or manifest line survives.
public final class CorpusWriter {
    public let root: String
    public let layout: CorpusLayout
    private var nextIndex: [String: Int] = [:]
    static let temporaryPrefix = ".tmp-"
    /// A write past the file-size limit (RLIMIT_FSIZE) must fail with EFBIG, which the writer
    /// rolls back and reports, instead of SIGXFSZ killing the process mid-batch.
    private static let fileSizeSignalIgnored: Void = { signal(SIGXFSZ, SIG_IGN) }()
    public static let manifestName = "manifest.jsonl"

    public init(root: String, layout: CorpusLayout) throws(CorpusWriteError) {
        _ = Self.fileSizeSignalIgnored
        self.root = root
        self.layout = layout
        try Self.makeFolder(root)
    }

    /// The folder (relative to the root, "" for the root) a story ingested at `date` goes to.
    public func folder(for date: Date) -> String {
        layout == .daily ? ISO8601.day(date) : ""
    }

    /// Writes `stories` (all ingested at `fetched`) and returns their records with file names.
    public func write(_ stories: [PendingStory], fetched: Date) throws(CorpusWriteError) -> [StoryRecord] {
        guard !stories.isEmpty else { return [] }
        let folder = folder(for: fetched)
        let folderPath = path(folder)
        try Self.makeFolder(folderPath)
        var index = try nextSequenceNumber(folder)

        var records: [StoryRecord] = []
        var temporaries: [(temp: String, final: String)] = []
        var renamed: [String] = []
        let manifestPath = folderPath + "/" + Self.manifestName
        var manifestSize: off_t = -1

        func rollBack() {
            for temp in temporaries { unlink(temp.temp) }
            for file in renamed { unlink(file) }
            if manifestSize >= 0 { truncate(manifestPath, manifestSize) }
            if !renamed.isEmpty { Self.syncFolder(folderPath) }
        }

        do throws(CorpusWriteError) {
            for story in stories {
                let name = String(format: "%03d_%@.txt", index, story.nameTail)
                index += 1
                let finalPath = folderPath + "/" + name
                let tempPath = folderPath + "/" + Self.temporaryPrefix + name
                temporaries.append((tempPath, finalPath))
                try Self.writeNewFile(tempPath, contents: Array(story.text.fileContents.utf8), sync: false)
                var record = story.record
                record.file = folder.isEmpty ? name : folder + "/" + name
                records.append(record)
            }
            try Self.flushFileSystem(containing: folderPath)
            for pair in temporaries {
                guard rename(pair.temp, pair.final) == 0 else { throw CorpusWriteError("rename into place", pair.final) }
                renamed.append(pair.final)
            }
            temporaries.removeAll()
            var lines: [UInt8] = []
            for record in records {
                guard let line = try? record.jsonLine() else {
                    throw CorpusWriteError("encode the manifest line for", record.file, errno: EINVAL)
                }
                lines.append(contentsOf: line.utf8)
                lines.append(0x0A)
            }
            manifestSize = try Self.appendDurably(manifestPath, bytes: lines)
            Self.syncFolder(folderPath)
        } catch {
            rollBack()
            nextIndex[folder] = nil  // Re-scan on the next write.
            throw error
        }
        nextIndex[folder] = index
        return records
    }

    /// Removes what an interrupted run left in the folders written most recently: temporary
    /// files, story files without a state record, and manifest lines for files the state does not
    /// know; adds manifest lines the state has but the manifest lacks.
    ///
    /// - Parameter known: every stored file (relative path) with its manifest line, from the state.
    public func reconcile(known: [String: String], recentFolders: Int = 2) throws(CorpusWriteError) -> ReconcileReport {
        try reconcile(folders: foldersToReconcile(recent: recentFolders), known: known)
    }

    /// The folders an interrupted run can have left debris in: the most recent day folders
    /// (a crash can only hit the folder being written), or the root for the flat layout.
    public func foldersToReconcile(recent: Int = 2) -> [String] {
        if layout == .flat { return [""] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return Array(names.filter(Self.isDayFolderName).sorted().suffix(recent))
    }

    /// Reconciles `folders` against `known` (the state's files in those folders with their
    /// manifest lines).
    public func reconcile(folders: [String], known: [String: String]) throws(CorpusWriteError) -> ReconcileReport {
        var report = ReconcileReport()
        for folder in folders {
            try reconcile(folder: folder, known: known, report: &report)
        }
        nextIndex.removeAll()
        return report
    }

    private func reconcile(folder: String, known: [String: String], report: inout ReconcileReport) throws(CorpusWriteError) {
        let folderPath = path(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folderPath)) ?? []
        var present = Set<String>()
        for name in names {
            let relative = folder.isEmpty ? name : folder + "/" + name
            if name.hasPrefix(Self.temporaryPrefix) {
                unlink(folderPath + "/" + name)
                report.removedTemporaryFiles.append(relative)
            } else if Self.isStoryFileName(name) {
                if known[relative] == nil {
                    unlink(folderPath + "/" + name)
                    report.removedOrphanFiles.append(relative)
                } else {
                    present.insert(relative)
                }
            }
        }
        let manifestPath = folderPath + "/" + Self.manifestName
        let existing = (try? Data(contentsOf: URL(fileURLWithPath: manifestPath))).map { [UInt8]($0) } ?? []
        var keptLines: [String] = []
        var listed = Set<String>()
        var changed = !existing.isEmpty && existing.last != 0x0A
        for line in existing.split(separator: 0x0A) {
            let text = String(decoding: line, as: UTF8.self)
            guard let file = Self.manifestFile(text), present.contains(file), !listed.contains(file) else {
                changed = true
                continue
            }
            listed.insert(file)
            keptLines.append(text)
        }
        for file in present.subtracting(listed).sorted() {
            if let line = known[file], !line.isEmpty {
                keptLines.append(line)
                changed = true
            }
        }
        guard changed else { return }
        try rewriteManifest(folder: folder, lines: keptLines)
        report.repairedManifests.append(folder.isEmpty ? Self.manifestName : folder + "/" + Self.manifestName)
    }

    /// Replaces the manifest of `folder` with `lines`, atomically and durably (temporary file,
    /// flush, rename, folder flush).
    public func rewriteManifest(folder: String, lines: [String]) throws(CorpusWriteError) {
        let folderPath = path(folder)
        let manifestPath = folderPath + "/" + Self.manifestName
        let temp = folderPath + "/" + Self.temporaryPrefix + Self.manifestName
        unlink(temp)
        try Self.writeNewFile(temp, contents: Array(lines.map { $0 + "\n" }.joined().utf8), sync: true)
        guard rename(temp, manifestPath) == 0 else {
            unlink(temp)
            throw CorpusWriteError("rename into place", manifestPath)
        }
        Self.syncFolder(folderPath)
    }

    /// Whether `name` is a temporary file of an unfinished write.
    public static func isTemporaryFileName(_ name: String) -> Bool {
        name.hasPrefix(temporaryPrefix)
    }

    // MARK: Names

    /// Whether `name` is a folder of the daily layout (`YYYY-MM-DD`).
    public static func isDayFolderName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count == 10, bytes[4] == 0x2D, bytes[7] == 0x2D else { return false }
        return bytes.enumerated().allSatisfy { $0.offset == 4 || $0.offset == 7 || ($0.element >= 0x30 && $0.element <= 0x39) }
    }

    /// `NNN_HHHHHHHHHHHHHHHH.txt`: at least 3 digits, 16 lower-case hex digits.
    public static func isStoryFileName(_ name: String) -> Bool {
        guard name.hasSuffix(".txt"), let underscore = name.firstIndex(of: "_") else { return false }
        let number = name[..<underscore]
        let tail = name[name.index(after: underscore)...].dropLast(4)
        return number.count >= 3 && number.allSatisfy(\.isASCII) && number.allSatisfy(\.isNumber)
            && tail.count == 16 && tail.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    static func sequenceNumber(ofStoryFile name: String) -> Int? {
        guard isStoryFileName(name), let underscore = name.firstIndex(of: "_") else { return nil }
        return Int(name[..<underscore])
    }

    /// The `file` of a manifest line; nil when the line is not a JSON object with one.
    public static func manifestFile(_ line: String) -> String? {
        guard let data = line.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["file"] as? String
    }

    private func path(_ folder: String) -> String {
        folder.isEmpty ? root : root + "/" + folder
    }

    private func nextSequenceNumber(_ folder: String) throws(CorpusWriteError) -> Int {
        if let cached = nextIndex[folder] { return cached }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path(folder))) ?? []
        let highest = names.compactMap(Self.sequenceNumber(ofStoryFile:)).max() ?? -1
        return highest + 1
    }

    // MARK: Durable file operations

    static func makeFolder(_ path: String) throws(CorpusWriteError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CorpusWriteError("use as a folder", path, errno: ENOTDIR) }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CorpusWriteError("create folder", path, errno: (error as NSError).code == 0 ? EIO : Int32(truncatingIfNeeded: (error as NSError).code))
        }
        syncFolder((path as NSString).deletingLastPathComponent)
    }

    static func writeNewFile(_ path: String, contents: [UInt8], sync: Bool) throws(CorpusWriteError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CorpusWriteError("create", path) }
        let code = writeFully(fd, contents)
        if code != 0 {
            close(fd)
            unlink(path)
            throw CorpusWriteError("write", path, errno: code)
        }
        if sync && fsync(fd) != 0 {
            let code = errno
            close(fd)
            unlink(path)
            throw CorpusWriteError("flush", path, errno: code)
        }
        guard close(fd) == 0 else {
            let code = errno
            unlink(path)
            throw CorpusWriteError("close", path, errno: code)
        }
    }

    /// Writes all of `bytes` to `fd`, retrying short writes; returns 0 or the errno of the failure.
    private static func writeFully(_ fd: Int32, _ bytes: [UInt8]) -> Int32 {
        var written = 0
        return bytes.withUnsafeBytes { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return 0 }
            while written < buffer.count {
                let result = Glibc.write(fd, base + written, buffer.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                written += result
            }
            return 0
        }
    }

    /// Appends `bytes` and flushes; returns the size before the append (for roll-back).
    static func appendDurably(_ path: String, bytes: [UInt8]) throws(CorpusWriteError) -> off_t {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CorpusWriteError("open", path) }
        defer { close(fd) }
        let before = lseek(fd, 0, SEEK_END)
        guard before >= 0 else { throw CorpusWriteError("seek in", path) }
        let code = writeFully(fd, bytes)
        if code != 0 {
            ftruncate(fd, before)
            throw CorpusWriteError("append to", path, errno: code)
        }
        guard fsync(fd) == 0 else {
            let code = errno
            ftruncate(fd, before)
            throw CorpusWriteError("flush", path, errno: code)
        }
        return before
    }

    /// Makes the batch's file contents durable with one flush of the file system (`syncfs`),
    /// instead of one `fsync` per story.
    static func flushFileSystem(containing folder: String) throws(CorpusWriteError) {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CorpusWriteError("open folder", folder) }
        defer { close(fd) }
        guard fc_syncfs(fd) == 0 else { throw CorpusWriteError("flush the file system of", folder) }
    }

    static func syncFolder(_ path: String) {
        let fd = open(path.isEmpty ? "." : path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
