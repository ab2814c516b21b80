import ClusterState
import CorpusWriter
import FeedModel
import Foundation

/// Why a copy could not be brought up to date, and what to do.
public struct MaterializeError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// What one step wrote.
public struct MaterializedBatch: Sendable, Equatable {
    /// The files written, relative to the corpus root, in commit order.
    public var files: [String] = []
    /// Stories of the batch that an interrupted step had already written (not written again).
    public var alreadyPresent = 0
    /// The copy's position after the step: every story up to this sequence number is on disk.
    public var position: Int64 = 0
}

/// Writes one copy of the corpus folder from the cluster state: every committed story, in commit
/// order, through the ordinary corpus writer (the same day folders, file names and manifests as
/// a single machine writes), so two copies fed from one state are byte-identical.
///
/// A story goes to the day folder of its `fetched` instant. The copy keeps its position (the
/// sequence number of the last story on disk) in its own root, written after the batch's files
/// and manifest lines are durable; the database learns it next, and empties a text once every
/// registered copy has it. A step cut short between the files and the position is finished by
/// the next one without writing anything twice: a story whose text hash is already in its
/// folder's manifest is counted as present.
public actor Materializer {
    public nonisolated let database: ClusterDatabase
    /// The copy's name in the database: the corpus folder's id.
    public nonisolated let name: String
    /// The corpus folder.
    public nonisolated let root: String
    private let writer: CorpusWriter
    private let batchSize: Int
    /// Whether the copy holds no story after its recorded position (false at start, and from
    /// the moment a step begins writing until its position is recorded: a step that failed part
    /// way may have written some of its stories).
    private var nothingAfterPosition = false
    /// Story files by text hash, for the `supersedes` of a story kept over a shorter version
    /// (workers name the superseded story `sha256:<hash>`; the copy knows its file). Read from
    /// the manifests when first needed, then kept up to date.
    private var filesByHash: [String: String]?

    /// Opens (and on first use names) the copy in `writer`'s folder and registers it.
    public init(database: ClusterDatabase, writer: CorpusWriter, batchSize: Int = 500) async throws(MaterializeError) {
        self.database = database
        self.writer = writer
        root = writer.root
        self.batchSize = max(1, batchSize)
        if let id = writer.corpusID() {
            name = id
        } else {
            let id = UUID().uuidString.lowercased()
            do {
                try writer.writeCorpusID(id)
            } catch {
                throw MaterializeError("corpus \(writer.root): \(error)")
            }
            name = id
        }
        do {
            let registered = try await database.registerCopy(name)
            let local = writer.materializedPosition() ?? 0
            if registered > local {
                // The database says this copy had more than its folder holds (a folder restored
                // from an older backup): the texts in between may be pruned already.
                throw MaterializeError("""
                    corpus \(writer.root) (copy \(name)) holds stories up to \(local) but the state recorded \(registered) for it; \
                    the folder was replaced or restored. Give the copy a fresh folder (a new, empty corpus folder is a new copy)
                    """)
            }
        } catch let error as ClusterStateError {
            throw MaterializeError("\(error)")
        } catch let error as MaterializeError {
            throw error
        } catch {
            throw MaterializeError("\(error)")
        }
    }

    /// The sequence number of the last story in this copy.
    public var position: Int64 { writer.materializedPosition() ?? 0 }

    /// Writes the next batch of committed stories; nil when the copy is up to date.
    public func step() async throws(MaterializeError) -> MaterializedBatch? {
        let start = position
        let stories: [CommittedStory]
        do {
            stories = try await database.stories(after: start, limit: batchSize)
        } catch {
            throw MaterializeError("\(error)")
        }
        guard let last = stories.last else { return nil }

        var pending: [(folder: String, fetched: Date, story: PendingStory)] = []
        var present = 0
        var onDisk: [String: Set<String>] = [:]
        for story in stories {
            guard let text = story.text else {
                throw MaterializeError("""
                    story \(story.seq) has no text in the state: it was pruned after every registered copy had it, so copy \(name) \
                    (\(writer.root)) cannot be completed from the state; make it from another copy (copy its folder) instead
                    """)
            }
            let record: StoryRecord
            do {
                record = try StoryRecord(jsonLine: story.record)
            } catch {
                throw MaterializeError("story \(story.seq) in the state: \(error)")
            }
            let folder = writer.folder(for: record.fetched)
            if !nothingAfterPosition {
                // Only the batch after the recorded position can be on disk already.
                if onDisk[folder] == nil { onDisk[folder] = Set(CorpusWriter.manifestRecords(root: root, folder: folder).map(\.record.sha256)) }
                if onDisk[folder, default: []].contains(record.sha256) {
                    present += 1
                    continue
                }
            }
            pending.append((folder, record.fetched, PendingStory(text: StoryText(fileContents: text), record: record,
                                                                 nameTail: String(record.sha256.prefix(16)))))
        }

        if !nothingAfterPosition {
            // A materializer killed between renaming a batch's files into place and listing them
            // in the manifest left them unlisted; they are this batch's stories, written again now.
            for folder in Set(pending.map(\.folder)).sorted() {
                do {
                    _ = try writer.removeLeftovers(in: folder, rewriting: pending.filter { $0.folder == folder }.map(\.story))
                } catch {
                    throw MaterializeError("\(error)")
                }
            }
        }
        var batch = MaterializedBatch(alreadyPresent: present)
        nothingAfterPosition = false
        // One write per run of consecutive stories of the same day folder, in commit order.
        var index = 0
        while index < pending.count {
            resolveSupersedes(&pending[index].story.record)
            var end = index + 1
            // A story that supersedes one not yet written (earlier in this run) starts a run of its own.
            while end < pending.count, pending[end].folder == pending[index].folder, resolveSupersedes(&pending[end].story.record) { end += 1 }
            do {
                let records = try writer.write(pending[index..<end].map(\.story), fetched: pending[index].fetched)
                batch.files += records.map(\.file)
                if filesByHash != nil { for record in records { filesByHash?[record.sha256] = record.file } }
            } catch {
                throw MaterializeError("\(error)")
            }
            index = end
        }
        do {
            try writer.recordMaterializedPosition(last.seq)
        } catch {
            throw MaterializeError("\(error)")
        }
        nothingAfterPosition = true
        batch.position = last.seq
        do {
            try await database.advance(copy: name, to: last.seq)
        } catch {
            // The files and the copy's own position are durable; the database catches up next step.
            throw MaterializeError("\(error) (the stories up to \(last.seq) are written; the next step records it)")
        }
        return batch
    }

    /// Replaces a worker's `sha256:<hash>` in `supersedes` by the superseded story's file; false
    /// when that story is not written yet (a name that never resolves stays as the worker wrote it).
    @discardableResult
    private func resolveSupersedes(_ record: inout StoryRecord) -> Bool {
        guard let target = record.supersedes, target.hasPrefix("sha256:") else { return true }
        if filesByHash == nil {
            var files: [String: String] = [:]
            for (_, stored) in CorpusWriter.manifestRecords(root: root, layout: writer.layout) { files[stored.sha256] = stored.file }
            filesByHash = files
        }
        guard let file = filesByHash?[String(target.dropFirst(7))] else { return false }
        record.supersedes = file
        return true
    }
}
