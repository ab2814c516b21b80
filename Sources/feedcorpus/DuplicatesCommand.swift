import ArgumentParser
import ClusterState
import CorpusWriter
import FeedConfig
import FeedModel
import Foundation
import StateStore

struct DuplicatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duplicates",
        abstract: "List dropped duplicates: which entry, the stored story it duplicates, and why.",
        discussion: """
            Reasons: same_id (a globally unique entry id already stored from some feed), same_url (the \
            canonical article URL is stored), same_text (identical normalised text), near_text (a candidate \
            confirmed by comparing the two texts' five-word shingles; the similarity, the larger of Jaccard \
            and containment, and the SimHash distance are shown). Reads the state; no lock needed. In cluster \
            mode (state: postgres://…) it reads the shared state and names the stored story by its file in \
            this machine's corpus copy when the copy has it, else by its commit sequence number.
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: "Only duplicates detected since then: a date (2024-11-04, UTC), an instant (ISO 8601), a time ago (30m, 24h, 7d, 2w), today or yesterday.")
    var since: String?

    @Flag(help: "One JSON object per line instead of text.")
    var json = false

    func run() async throws {
        let configuration = try options.loadConfiguration(allowCluster: true)
        var sinceDate: Date?
        if let since {
            guard let parsed = ISO8601.parse(relative: since, now: Date()) else {
                throw ValidationError("--since '\(since)' is not a date like 2024-11-04 or 2024-11-04T12:00:00Z, a time ago like 24h or 7d, today or yesterday")
            }
            sinceDate = parsed
        }
        if let state = configuration.clusterState {
            try show(try await clusterDuplicates(state: state, since: sinceDate, configuration: configuration))
            return
        }
        guard FileManager.default.fileExists(atPath: configuration.statePath) else {
            print("no state at \(configuration.statePath) yet: nothing has been fetched")
            return
        }
        let records: [DuplicateRecord]
        do {
            records = try StateStore(path: configuration.statePath).duplicates(since: sinceDate)
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(error)\n".utf8))
            throw ExitCode(ExitStatus.of(stateError: error))
        }
        try show(records)
    }

    private func show(_ records: [DuplicateRecord]) throws {
        for record in records {
            if json {
                let object: [String: Any] = [
                    "detected": ISO8601.string(record.detectedAt), "reason": record.reason.rawValue,
                    "duplicate_of": record.duplicateOf, "duplicate_of_title": record.duplicateOfTitle ?? NSNull(), "distance": record.distance.map { $0 as Any } ?? NSNull(),
                    "similarity": record.similarity.map { $0 as Any } ?? NSNull(),
                    "feed_url": URLCredentials.stripped(record.feedURL), "entry": record.entryKey, "url": record.url ?? NSNull(), "title": record.title ?? NSNull(),
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
            } else {
                let similarity = record.similarity.map { String(format: "similarity %.2f, ", $0) } ?? ""
                let why = record.reason == .nearText ? "near_text (\(similarity)distance \(record.distance ?? -1))" : record.reason.rawValue
                print("\(ISO8601.string(record.detectedAt))  \(why)  \(LogText.escaped(record.title ?? record.url ?? record.entryKey))")
                print("    duplicates \(record.duplicateOf)  \(LogText.escaped(record.duplicateOfTitle ?? ""))")
                print("    [feed \(URLCredentials.stripped(record.feedURL)), \(LogText.escaped(record.url ?? record.entryKey))]")
            }
        }
        if !json { print("\(records.count) duplicate\(records.count == 1 ? "" : "s")") }
    }

    /// The shared state's duplicates, each naming the stored story by its file in this machine's
    /// copy (from the copy's manifests) when the copy has it.
    private func clusterDuplicates(state: String, since: Date?, configuration: Configuration) async throws -> [DuplicateRecord] {
        guard let url = ClusterDatabaseURL(state) else {
            FileHandle.standardError.write(Data("feedcorpus: config error: \(options.config): state: not a usable URL; write postgres://user[:password]@host[:port]/database\n".utf8))
            throw ExitCode(ExitStatus.usageOrConfig)
        }
        let found: [ClusterDuplicateRecord]
        do {
            found = try await ClusterDatabase.withDatabase(url: url, logger: options.bootstrapLogging(), maxConnections: 1) {
                try await $0.duplicates(since: since)
            }
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(error)\n".utf8))
            throw ExitCode(ExitStatus.someFeedsFailed)
        }
        let files = found.isEmpty ? [:] : Dictionary(
            CorpusWriter.manifestRecords(root: configuration.corpusDirectory, layout: configuration.layout == .flat ? .flat : .daily)
                .map { ($0.record.sha256, $0.record.file) }, uniquingKeysWith: { first, _ in first })
        // Reasons are written by the workers from `DuplicateReason`; a row with another is not shown.
        return found.compactMap { record in
            guard let reason = DuplicateReason(rawValue: record.reason) else { return nil }
            return DuplicateRecord(feedURL: record.feedURL, entryKey: record.entryKey, url: record.url, title: record.title,
                            reason: reason,
                            duplicateOf: files[record.storySHA256] ?? "story \(record.storySeq) (not in this machine's corpus copy)",
                            distance: record.distance, similarity: record.similarity, detectedAt: record.detectedAt,
                            duplicateOfTitle: record.storyTitle)
        }
    }
}
