import CorpusWriter
import Dedupe
import FeedModel
import Foundation
import StateStore

/// `feedcorpus verify`: checks that the corpus and the state agree, and optionally repairs what
/// can be repaired from the state.
///
/// The invariants (see the README, "Durability"): no temporary file outlives a run; every story
/// file is recorded once in the state and listed once in its folder's manifest, with the state's
/// line; every story the state records has its file; each file's text still has the hash the state
/// recorded (not truncated or edited); no two files hold the same text.
public struct CorpusVerifier: Sendable {
    /// One thing found wrong.
    public struct Problem: Sendable, Equatable {
        public enum Kind: String, Sendable {
            /// A `.tmp-` file: debris of an interrupted write (removed by --repair).
            case temporaryFile = "temporary_file"
            /// A story file the state does not record (moved to the quarantine by --repair; its
            /// entry was never marked seen, so it is ingested again).
            case unrecordedFile = "unrecorded_file"
            /// A story the state records whose file is gone: restore it from a backup.
            case missingFile = "missing_file"
            /// The file's text no longer has the hash recorded when it was stored.
            case changedFile = "changed_file"
            /// Two files with the same text.
            case duplicateText = "duplicate_text"
            /// The manifest lacks a stored file, lists one twice, lists an unknown file, differs
            /// from the state's line, or has a broken line (rewritten from the state by --repair).
            case manifest

            /// Whether --repair can fix it (missing and changed files need a backup).
            public var isRepairable: Bool { self != .missingFile && self != .changedFile && self != .duplicateText }
        }

        public var kind: Kind
        /// Relative to the corpus root.
        public var path: String
        public var detail: String
        public var repaired = false
    }

    public struct Report: Sendable {
        public var folders = 0
        public var files = 0
        public var recorded = 0
        public var problems: [Problem] = []
        /// A run held the lock, so temporary files may be work in progress (not counted).
        public var runInProgress = false

        /// Problems still there after the repairs.
        public var remaining: [Problem] { problems.filter { !$0.repaired } }
    }

    public let corpusRoot: String
    public let statePath: String
    public let layout: CorpusLayout

    public init(corpusRoot: String, statePath: String, layout: CorpusLayout) {
        self.corpusRoot = corpusRoot
        self.statePath = statePath
        self.layout = layout
    }

    /// Where --repair moves story files the state does not know (beside the state, outside the
    /// corpus, so analysis tools never read them).
    public var quarantine: String { CorpusBinding.quarantine(statePath: statePath) }

    /// Checks (and with `repair`, repairs). Repairing needs the state lock: a run must not be
    /// writing at the same time (`PassError.locked` if one is).
    public func run(repair: Bool) throws(PassError) -> Report {
        var lock: StateLock?
        var report = Report()
        do {
            lock = try StateLock(statePath: statePath)
        } catch let busy as StateLock.Busy {
            if repair { throw .locked(busy) }
            report.runInProgress = true
        } catch {
            throw .setup("\(error)")
        }
        defer { _ = lock }

        let stored: [(file: String, sha256: String, manifestLine: String)]
        let stateCorpusID: String?
        do {
            let state = try StateStore.openReadOnly(path: statePath)
            stored = try state.storedStoryDigests()
            stateCorpusID = try state.corpusID()
        } catch where error.damaged {
            throw .stateDamaged(error)
        } catch {
            throw .setup("cannot read the state \(statePath): \(error)")
        }
        let writer: CorpusWriter
        do {
            writer = try CorpusWriter(root: corpusRoot, layout: layout)
        } catch {
            throw .setup("\(error)")
        }
        // Another state's corpus: every file would look unrecorded (and --repair would move them all).
        if let corpusID = writer.corpusID(), corpusID != stateCorpusID {
            throw .setup(CorpusBinding.Mismatch(corpus: corpusRoot, statePath: statePath, corpusID: corpusID, stateID: stateCorpusID).description)
        }
        try check(stored: stored, writer: writer, repair: repair, report: &report, wording: .state)
        return report
    }

    /// Cluster mode: checks a materialized copy (this verifier's corpus folder) against the
    /// shared state, given the text hash of every story the state has up to the copy's position
    /// (hash -> commit sequence number). The copy's manifests stand for the records: every file
    /// is checked as on one machine (temporary files, files no manifest lists, missing or changed
    /// files, duplicate texts, broken manifests); then every story of the state up to the
    /// position must be in the copy, and the copy must hold no story the state does not know.
    /// Nothing is repaired: a copy is remade from the state (or another copy), not patched. While
    /// the copy's materializer runs, temporary files are its work in progress (not counted).
    public func checkCopy(stateHashes: [String: Int64], position: Int64, materializerRunning: Bool) throws(PassError) -> Report {
        var report = Report()
        report.runInProgress = materializerRunning
        let writer: CorpusWriter
        do {
            writer = try CorpusWriter(root: corpusRoot, layout: layout)
        } catch {
            throw .setup("\(error)")
        }
        let stored = CorpusWriter.manifestRecords(root: corpusRoot, layout: layout).map { (file: $0.record.file, sha256: $0.record.sha256, manifestLine: $0.line) }
        try check(stored: stored, writer: writer, repair: false, report: &report, wording: .copy)
        var inCopy = Set<String>()
        for record in stored {
            inCopy.insert(record.sha256)
            if stateHashes[record.sha256] == nil {
                report.problems.append(Problem(kind: .unrecordedFile, path: record.file,
                                               detail: "not a story of the shared state up to story \(position) (another state's copy, or edited by hand?)"))
            }
        }
        for (sha, seq) in stateHashes.sorted(by: { $0.value < $1.value }) where !inCopy.contains(sha) {
            report.problems.append(Problem(kind: .missingFile, path: "story \(seq)",
                                           detail: "committed and recorded as materialized, but not in this copy (text hash \(sha.prefix(16))…); make the copy again"))
        }
        return report
    }

    /// What the file checks say of an unrecorded and a missing file: against a state (one
    /// machine), or against a copy's own manifests (cluster mode, where a copy is made again).
    private struct Wording {
        var unrecorded: String
        var missing: String

        static let state = Wording(unrecorded: "no state record (written by a run that did not commit); the entry is ingested again",
                                   missing: "recorded in the state but not on disk; restore it from a backup")
        static let copy = Wording(unrecorded: "no manifest line lists it; make the copy again",
                                  missing: "listed in its manifest but not on disk; make the copy again")
    }

    /// The checks of every folder against `stored` (the records of the files the corpus must hold).
    private func check(stored: [(file: String, sha256: String, manifestLine: String)], writer: CorpusWriter, repair: Bool,
                       report: inout Report, wording: Wording) throws(PassError) {
        report.recorded = stored.count
        let byFile = Dictionary(stored.map { ($0.file, $0) }, uniquingKeysWith: { first, _ in first })

        // Folders: every day folder (or the root), plus any folder the state names.
        let fileManager = FileManager.default
        let storedByFolder = Dictionary(grouping: stored) { ($0.file as NSString).deletingLastPathComponent }
        var folders = Set(storedByFolder.keys)
        if layout == .flat {
            folders.insert("")
        } else {
            for name in (try? fileManager.contentsOfDirectory(atPath: corpusRoot)) ?? [] where CorpusWriter.isDayFolderName(name) {
                folders.insert(name)
            }
        }
        report.folders = folders.count
        var seenHashes: [String: String] = [:]
        var presentFiles = Set<String>()

        for folder in folders.sorted() {
            let folderPath = folder.isEmpty ? corpusRoot : corpusRoot + "/" + folder
            let names = ((try? fileManager.contentsOfDirectory(atPath: folderPath)) ?? []).sorted()
            for name in names {
                let relative = folder.isEmpty ? name : folder + "/" + name
                let path = folderPath + "/" + name
                if CorpusWriter.isTemporaryFileName(name) {
                    if report.runInProgress { continue }
                    var problem = Problem(kind: .temporaryFile, path: relative, detail: "left by an interrupted write")
                    if repair { problem.repaired = (try? fileManager.removeItem(atPath: path)) != nil }
                    report.problems.append(problem)
                    continue
                }
                guard CorpusWriter.isStoryFileName(name) else { continue }
                report.files += 1
                guard let record = byFile[relative] else {
                    var problem = Problem(kind: .unrecordedFile, path: relative, detail: wording.unrecorded)
                    if repair {
                        let target = quarantine + "/" + relative
                        try? fileManager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                        problem.repaired = (try? fileManager.moveItem(atPath: path, toPath: target)) != nil
                        if problem.repaired { problem.detail += "; moved to \(target)" }
                    }
                    report.problems.append(problem)
                    continue
                }
                presentFiles.insert(relative)
                guard let data = fileManager.contents(atPath: path) else {
                    report.problems.append(Problem(kind: .changedFile, path: relative, detail: "cannot be read"))
                    continue
                }
                let text = String(decoding: data, as: UTF8.self)
                let story = StoryText(fileContents: text)
                var sha = TextFingerprint(story: story).sha256
                if sha != record.sha256, TextFingerprint.bodyOnlySHA256(of: story) == record.sha256 {
                    sha = record.sha256  // Stored by a version that hashed short bodies without their headline.
                }
                if sha != record.sha256 || !text.hasSuffix("\n") {
                    report.problems.append(Problem(
                        kind: .changedFile, path: relative,
                        detail: "its text no longer matches what was stored (\(data.count) bytes; truncated or edited?); restore it from a backup"))
                }
                if let other = seenHashes[sha] {
                    report.problems.append(Problem(kind: .duplicateText, path: relative, detail: "same text as \(other)"))
                } else {
                    seenHashes[sha] = relative
                }
            }
            try checkManifest(folder: folder, folderPath: folderPath, stored: storedByFolder[folder] ?? [], present: presentFiles,
                              writer: writer, repair: repair, report: &report)
        }
        for record in stored where !presentFiles.contains(record.file) {
            report.problems.append(Problem(kind: .missingFile, path: record.file, detail: wording.missing))
        }
    }

    private func checkManifest(folder: String, folderPath: String, stored: [(file: String, sha256: String, manifestLine: String)],
                               present: Set<String>, writer: CorpusWriter, repair: Bool, report: inout Report) throws(PassError) {
        let prefix = folder.isEmpty ? "" : folder + "/"
        // The state's lines for the files of this folder that exist, in the order they were stored
        // (`stored` is this folder's records).
        let expected = stored.filter { present.contains($0.file) }
        let manifestName = prefix + CorpusWriter.manifestName
        let data = FileManager.default.contents(atPath: folderPath + "/" + CorpusWriter.manifestName) ?? Data()
        var reasons: [String] = []
        if !data.isEmpty && data.last != 0x0A { reasons.append("the last line is cut off") }
        var listed: [String: Int] = [:]
        let expectedLines = Dictionary(expected.map { ($0.file, $0.manifestLine) }, uniquingKeysWith: { first, _ in first })
        for line in data.split(separator: 0x0A) {
            let text = String(decoding: line, as: UTF8.self)
            guard let file = CorpusWriter.manifestFile(text) else {
                reasons.append("a line is not a JSON object with a file: \(text.prefix(60))")
                continue
            }
            listed[file, default: 0] += 1
            if let line = expectedLines[file], line != text { reasons.append("\(file): the line differs from the state's") }
            if expectedLines[file] == nil { reasons.append("\(file) is listed but is not a stored story in this folder") }
        }
        for (file, count) in listed where count > 1 { reasons.append("\(file) is listed \(count) times") }
        for record in expected where listed[record.file] == nil { reasons.append("\(record.file) is not listed") }
        guard !reasons.isEmpty else { return }
        var problem = Problem(kind: .manifest, path: manifestName, detail: reasons.sorted().prefix(5).joined(separator: "; ")
                                + (reasons.count > 5 ? "; and \(reasons.count - 5) more" : ""))
        if repair {
            do {
                try writer.rewriteManifest(folder: folder, lines: expected.map(\.manifestLine))
                problem.repaired = true
                problem.detail += "; rewritten from the state (\(expected.count) lines)"
            } catch {
                problem.detail += "; could not rewrite it: \(error)"
            }
        }
        report.problems.append(problem)
    }
}
