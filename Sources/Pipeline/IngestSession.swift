import CorpusWriter
import FeedConfig
import Fetcher
import Foundation
import Logging
import StateStore

/// What a run holds for its whole life: the state lock, the state and corpus (`Ingestor`), and the
/// HTTP client. The one-shot opens one per pass; the service one for all its passes.
public final class IngestSession: Sendable {
    let lock: StateLock
    let corpusLock: StateLock
    let ingestor: Ingestor
    public let client: HTTPClient
    let robots: RobotsCache
    /// Bytes of article pages held at once (fetched and not yet extracted), across the session.
    let pageBudget: ByteBudget

    init(lock: StateLock, corpusLock: StateLock, ingestor: Ingestor, client: HTTPClient, userAgent: String, pageBytesInFlight: Int) {
        self.lock = lock
        self.corpusLock = corpusLock
        self.ingestor = ingestor
        self.client = client
        robots = RobotsCache(userAgent: userAgent)
        pageBudget = client.makeBudget(capacity: pageBytesInFlight)
    }

    /// Takes the lock, opens and reconciles the state and corpus, starts the HTTP client.
    public static func open(configuration: Configuration, logger: Logger, clock: @escaping @Sendable () -> Date) async throws(PassError) -> IngestSession {
        let lock: StateLock
        let corpusLock: StateLock
        do {
            lock = try StateLock(statePath: configuration.statePath)
            corpusLock = try StateLock(lockFile: configuration.corpusDirectory + "/" + CorpusWriter.lockFileName, guarding: "corpus")
        } catch let busy as StateLock.Busy {
            throw .locked(busy)
        } catch {
            throw .setup("\(error)")
        }

        let ingestor: Ingestor
        do {
            ingestor = try Ingestor(
                statePath: configuration.statePath, corpusRoot: configuration.corpusDirectory,
                layout: configuration.layout == .flat ? .flat : .daily, dedupe: configuration.dedupe, clock: clock)
            let repaired = try await ingestor.reconcile()
            if !repaired.isClean {
                logger.warning("repaired what an interrupted run left behind", metadata: [
                    "temporary_files_removed": "\(repaired.removedTemporaryFiles.count)",
                    "unrecorded_story_files_quarantined": "\(repaired.quarantinedFiles.joined(separator: ", "))",
                    "unrecorded_story_files_not_movable": "\(repaired.unmovableFiles.joined(separator: ", "))",
                    "manifests_repaired": "\(repaired.repairedManifests.joined(separator: ", "))",
                ])
            }
        } catch let error as StateStoreError where error.damaged {
            throw .stateDamaged(error)
        } catch {
            throw .setup("\(error)")
        }
        let client = HTTPClient(settings: IngestPass.clientSettings(configuration.fetch))
        // Hosts that asked an earlier run to wait (Retry-After) are still left alone.
        for (host, until) in (try? await ingestor.hostHolds(now: clock())) ?? [:] {
            client.holdHost(host, until: until)
        }
        return IngestSession(lock: lock, corpusLock: corpusLock, ingestor: ingestor, client: client, userAgent: configuration.fetch.userAgent,
                             pageBytesInFlight: configuration.fetch.maxPageBytesInFlight)
    }

    /// Makes `feeds` (every feed when nil) due now, except disabled ones: the next pass polls
    /// them. Returns how many feeds the state knew and changed.
    public func pollNow(_ feeds: [FeedSource]?) async throws -> Int {
        try await ingestor.markDue(urls: feeds?.map(\.url))
    }

    /// After a reload: no feed waits longer than its (new) maximum interval from `now`; feeds
    /// backing off after errors keep their backoff. Returns how many were brought forward.
    public func applyIntervalBounds(_ configuration: Configuration, now: Date) async throws -> Int {
        let latest = configuration.feeds.map { feed in
            (url: feed.url, at: now.addingTimeInterval(feed.maxInterval ?? configuration.schedule.maxInterval))
        }
        return try await ingestor.limitNextPolls(latest)
    }

    /// How many of `feeds` are in each state (`feedcorpus_feeds`), from the state as it is now.
    public func feedStates(_ feeds: [FeedSource]) async -> [String: Int] {
        let statuses = (try? await ingestor.feedStatuses()) ?? []
        return PipelineMetrics.feedStates(configured: feeds.map(\.url), statuses: statuses)
    }

    /// The earliest instant one of `feeds` is due (nil: one is due now or was never polled).
    public func nextDue(_ feeds: [FeedSource]) async -> Date? {
        await ingestor.nextDue(feeds.map(\.url))
    }

    /// Stops the HTTP client; the lock is released when the session is gone.
    public func close() {
        client.shutdown()
    }
}
