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

    func with(reason: String) -> CorpusWriteError {
        var copy = self
        copy.reason = reason
        return copy
    }
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
    /// Story files on disk without a state record (a crash between writing and committing):
    /// moved to the quarantine folder, never deleted, so the story is ingested again cleanly.
    public var quarantinedFiles: [String] = []
    /// Such files that could not be moved (left in place, listed in the manifest no more).
    public var unmovableFiles: [String] = []
    public var repairedManifests: [String] = []

    public var isClean: Bool { removedTemporaryFiles.isEmpty && quarantinedFiles.isEmpty && unmovableFiles.isEmpty && repairedManifests.isEmpty }
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

    // MARK: Binding to a state

    /// The file in the corpus root that names the corpus (the same id is in its state).
    public static let idFileName = ".feedcorpus-id"
    /// The lock file in the corpus root, held by the one process writing the corpus.
    public static let lockFileName = ".feedcorpus.lock"
    /// Cluster mode: how far this copy's materializer got (see `materializedPosition`).
    public static let materializedFileName = ".feedcorpus-materialized"

    /// The corpus id written in the root, nil when there is none (a new or older corpus).
    public func corpusID() -> String? { Self.corpusID(root: root) }

    /// The corpus id in the corpus folder `root`, without opening a writer (which would create it).
    public static func corpusID(root: String) -> String? {
        readRootFile(root: root, name: idFileName)
    }

    /// Writes the corpus id into the root, durably.
    public func writeCorpusID(_ id: String) throws(CorpusWriteError) {
        try writeRootFile(name: Self.idFileName, contents: id)
    }

    /// A materializer's position (cluster mode): the commit sequence number of the last story it
    /// wrote into this copy, kept in the copy itself (nil: none written yet).
    public func materializedPosition() -> Int64? {
        Self.readRootFile(root: root, name: Self.materializedFileName).flatMap { Int64($0) }
    }

    /// Records, durably, that every story up to commit sequence number `seq` is in this copy.
    public func recordMaterializedPosition(_ seq: Int64) throws(CorpusWriteError) {
        try writeRootFile(name: Self.materializedFileName, contents: String(seq))
    }

    /// The first line of a small file of the root (nil when missing or empty).
    private static func readRootFile(root: String, name: String) -> String? {
        let fd = open(root + "/" + name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return nil }
        let text = String(decoding: buffer.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// Replaces a small file of the root with `contents` and a newline: written aside, flushed,
    /// renamed into place, the folder flushed.
    private func writeRootFile(name: String, contents: String) throws(CorpusWriteError) {
        let dir = try openFolder("")
        defer { close(dir) }
        let temp = Self.temporaryPrefix + name
        unlinkat(dir, temp, 0)
        try Self.writeNewFile(in: dir, name: temp, shownAs: root + "/" + temp, contents: Array((contents + "\n").utf8), sync: true)
        guard renameat(dir, temp, dir, name) == 0 else {
            unlinkat(dir, temp, 0)
            throw CorpusWriteError("rename into place", root + "/" + name)
        }
        fsync(dir)
    }

    /// Whether any story file is in the corpus (the root and its day folders).
    public func holdsStories() -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        if names.contains(where: Self.isStoryFileName) { return true }
        return names.filter(Self.isDayFolderName).contains { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + folder)) ?? []).contains(where: Self.isStoryFileName)
        }
    }

    /// The folder (relative to the root, "" for the root) a story ingested at `date` goes to.
    public func folder(for date: Date) -> String {
        layout == .daily ? ISO8601.day(date) : ""
    }

    /// Writes `stories` (all ingested at `fetched`) and returns their records with file names.
    /// Every file is created, renamed and appended to through a descriptor of its folder, and
    /// no symbolic link is followed below the root: a link planted in the corpus cannot send a
    /// write anywhere else.
    public func write(_ stories: [PendingStory], fetched: Date) throws(CorpusWriteError) -> [StoryRecord] {
        guard !stories.isEmpty else { return [] }
        let folder = folder(for: fetched)
        let folderPath = path(folder)
        try Self.makeFolder(folderPath)
        let dir = try openFolder(folder)
        defer { close(dir) }
        var index = try nextSequenceNumber(folder)

        var records: [StoryRecord] = []
        var temporaries: [(temp: String, final: String)] = []
        var renamed: [String] = []
        var manifestSize: off_t = -1

        func rollBack() {
            for temp in temporaries { unlinkat(dir, temp.temp, 0) }
            for file in renamed { unlinkat(dir, file, 0) }
            if manifestSize >= 0 {
                let fd = openat(dir, Self.manifestName, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
                if fd >= 0 {
                    ftruncate(fd, manifestSize)
                    close(fd)
                }
            }
            if !renamed.isEmpty { fsync(dir) }
        }

        do throws(CorpusWriteError) {
            for story in stories {
                let name = DecimalText.zeroPadded(index, width: 3) + "_" + story.nameTail + ".txt"
                index += 1
                let tempName = Self.temporaryPrefix + name
                temporaries.append((tempName, name))
                try Self.writeNewFile(in: dir, name: tempName, shownAs: folderPath + "/" + tempName,
                                      contents: Array(story.text.fileContents.utf8), sync: false)
                var record = story.record
                record.file = folder.isEmpty ? name : folder + "/" + name
                records.append(record)
            }
            guard fc_syncfs(dir) == 0 else { throw CorpusWriteError("flush the file system of", folderPath) }
            for pair in temporaries {
                guard renameat(dir, pair.temp, dir, pair.final) == 0 else { throw CorpusWriteError("rename into place", folderPath + "/" + pair.final) }
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
            manifestSize = try Self.appendDurably(in: dir, name: Self.manifestName, shownAs: folderPath + "/" + Self.manifestName, bytes: lines)
            fsync(dir)
        } catch {
            rollBack()
            nextIndex[folder] = nil  // Re-scan on the next write.
            throw error
        }
        nextIndex[folder] = index
        return records
    }

    /// Removes what a writer killed part way through `write` left in `folder`: temporary files,
    /// and story files that no manifest line lists and whose bytes are exactly those `stories`
    /// are about to be written with (the next step writes them again, under the same numbers, so
    /// the left copy would only shift the numbering). Any other unlisted file is left for
    /// `verify` to report. Returns the names removed.
    public func removeLeftovers(in folder: String, rewriting stories: [PendingStory]) throws(CorpusWriteError) -> [String] {
        let folderPath = path(folder)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folderPath) else { return [] }
        let listed = Set(Self.manifestRecords(root: root, folder: folder).map { $0.record.file.split(separator: "/").last.map(String.init) ?? "" })
        var contentsByTail: [String: [UInt8]] = [:]
        for story in stories where contentsByTail[story.nameTail] == nil {
            contentsByTail[story.nameTail] = Array(story.text.fileContents.utf8)
        }
        let dir = try openFolder(folder)
        defer { close(dir) }
        var removed: [String] = []
        for name in names.sorted() {
            var leftover = name.hasPrefix(Self.temporaryPrefix)
            if !leftover, Self.isStoryFileName(name), !listed.contains(name),
               let underscore = name.firstIndex(of: "_"), name.hasSuffix(".txt") {
                let tail = String(name[name.index(after: underscore)..<name.index(name.endIndex, offsetBy: -4)])
                if let expected = contentsByTail[tail],
                   let bytes = FileManager.default.contents(atPath: folderPath + "/" + name), [UInt8](bytes) == expected {
                    leftover = true
                }
            }
            guard leftover else { continue }
            guard unlinkat(dir, name, 0) == 0 else { throw CorpusWriteError("remove the leftover", folderPath + "/" + name) }
            removed.append(name)
        }
        if !removed.isEmpty {
            fsync(dir)
            nextIndex[folder] = nil
        }
        return removed
    }

    /// A descriptor of `folder` (relative to the root; "" is the root, which may itself be a
    /// link the operator made). A day folder that is a symbolic link is refused.
    private func openFolder(_ folder: String) throws(CorpusWriteError) -> Int32 {
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw CorpusWriteError("open folder", root) }
        if folder.isEmpty { return rootFD }
        defer { close(rootFD) }
        let fd = openat(rootFD, folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ELOOP || code == ENOTDIR {
                throw CorpusWriteError("use", path(folder), errno: code).with(reason: "it is a symbolic link or not a folder; corpus folders must be real folders (remove the link)")
            }
            throw CorpusWriteError("open folder", path(folder), errno: code)
        }
        return fd
    }

    /// Removes what an interrupted run left in the folders written most recently: temporary
    /// files, story files without a state record, and manifest lines for files the state does not
    /// know; adds manifest lines the state has but the manifest lacks.
    ///
    /// - Parameter known: every stored file (relative path) with its manifest line, from the state.
    /// - Parameter quarantine: the folder unrecorded story files are moved to.
    public func reconcile(known: [String: String], quarantine: String, recentFolders: Int = 2) throws(CorpusWriteError) -> ReconcileReport {
        try reconcile(folders: foldersToReconcile(recent: recentFolders), known: known, quarantine: quarantine)
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
    public func reconcile(folders: [String], known: [String: String], quarantine: String) throws(CorpusWriteError) -> ReconcileReport {
        var report = ReconcileReport()
        for folder in folders {
            try reconcile(folder: folder, known: known, quarantine: quarantine, report: &report)
        }
        nextIndex.removeAll()
        return report
    }

    private func reconcile(folder: String, known: [String: String], quarantine: String, report: inout ReconcileReport) throws(CorpusWriteError) {
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
                    if Self.moveToQuarantine(folderPath + "/" + name, relative: relative, quarantine: quarantine) {
                        report.quarantinedFiles.append(relative)
                    } else {
                        report.unmovableFiles.append(relative)
                    }
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

    /// Moves a story file to `quarantine/relative` (renamed within one file system, copied and
    /// flushed before the original goes otherwise); an existing file there is never replaced.
    static func moveToQuarantine(_ path: String, relative: String, quarantine: String) -> Bool {
        var target = quarantine + "/" + relative
        let fileManager = FileManager.default
        try? fileManager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var attempt = 1
        while fileManager.fileExists(atPath: target) {
            attempt += 1
            target = quarantine + "/" + relative + ".\(attempt)"
        }
        if rename(path, target) == 0 {
            syncFolder((target as NSString).deletingLastPathComponent)
            syncFolder((path as NSString).deletingLastPathComponent)
            return true
        }
        guard errno == EXDEV, let data = fileManager.contents(atPath: path) else { return false }
        do {
            try writeNewFile(target, contents: [UInt8](data), sync: true)
        } catch {
            return false
        }
        syncFolder((target as NSString).deletingLastPathComponent)
        unlink(path)
        syncFolder((path as NSString).deletingLastPathComponent)
        return true
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
    /// The story records a folder's manifest lists ("" is the root), with their lines, in order;
    /// a line that is not a record is left out (`verify` reports such lines).
    public static func manifestRecords(root: String, folder: String) -> [(line: String, record: StoryRecord)] {
        let path = root + (folder.isEmpty ? "" : "/" + folder) + "/" + manifestName
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return contents.split(separator: "\n").compactMap { line in
            (try? StoryRecord(jsonLine: String(line))).map { (String(line), $0) }
        }
    }

    /// The records of every manifest of the corpus at `root`: the root's in the flat layout, the
    /// day folders' (oldest first) in the daily one.
    public static func manifestRecords(root: String, layout: CorpusLayout) -> [(line: String, record: StoryRecord)] {
        let folders = layout == .flat ? [""]
            : ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter(isDayFolderName).sorted()
        return folders.flatMap { manifestRecords(root: root, folder: $0) }
    }

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
        let folder = (path as NSString).deletingLastPathComponent
        let dir = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { throw CorpusWriteError("open folder", folder) }
        defer { close(dir) }
        try writeNewFile(in: dir, name: (path as NSString).lastPathComponent, shownAs: path, contents: contents, sync: sync)
    }

    /// Creates `name` in the folder `dir` (never through a link, never over an existing file).
    static func writeNewFile(in dir: Int32, name: String, shownAs path: String, contents: [UInt8], sync: Bool) throws(CorpusWriteError) {
        let fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CorpusWriteError("create", path) }
        let code = writeFully(fd, contents)
        if code != 0 {
            close(fd)
            unlinkat(dir, name, 0)
            throw CorpusWriteError("write", path, errno: code)
        }
        if sync && fsync(fd) != 0 {
            let code = errno
            close(fd)
            unlinkat(dir, name, 0)
            throw CorpusWriteError("flush", path, errno: code)
        }
        guard close(fd) == 0 else {
            let code = errno
            unlinkat(dir, name, 0)
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

    /// Appends `bytes` to `name` in the folder `dir` (not through a link) and flushes; returns
    /// the size before the append (for roll-back).
    static func appendDurably(in dir: Int32, name: String, shownAs path: String, bytes: [UInt8]) throws(CorpusWriteError) -> off_t {
        let fd = openat(dir, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let code = errno
            if code == ELOOP { throw CorpusWriteError("open", path, errno: code).with(reason: "it is a symbolic link; the manifest must be a real file (remove the link)") }
            throw CorpusWriteError("open", path, errno: code)
        }
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
