import CorpusWriter
import FeedConfig
import FeedModel
import FeedParser
import Fetcher
import Foundation
import Logging
import StateStore

/// Totals of one pass over the feeds.
public struct PassSummary: Sendable, Equatable {
    public var reports: [FeedRunReport]

    public var feedsOK: Int { reports.filter { !$0.failed }.count }
    public var feedsFailed: Int { reports.filter(\.failed).count }
    public var entriesSeen: Int { reports.reduce(0) { $0 + $1.entriesSeen } }
    public var stored: Int { reports.reduce(0) { $0 + $1.stored } }
    public var duplicates: Int { reports.reduce(0) { $0 + $1.duplicates } }
}

/// Errors that stop a pass before any feed is polled.
public enum PassError: Error, CustomStringConvertible {
    case locked(StateLock.Busy)
    case setup(String)

    public var description: String {
        switch self {
        case let .locked(busy): return busy.description
        case let .setup(message): return message
        }
    }
}

/// One pass over the configured feeds: fetch each (concurrently), parse, and store the new
/// stories. One feed's failure never stops the others.
public struct IngestPass: Sendable {
    public var configuration: Configuration
    public var logger: Logger
    public var clock: @Sendable () -> Date

    public init(configuration: Configuration, logger: Logger, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
    }

    /// Runs the pass; `progress` is called as each feed finishes, in completion order.
    public func run(progress: @escaping @Sendable (FeedRunReport) -> Void = { _ in }) async throws(PassError) -> PassSummary {
        let lock: StateLock
        do {
            lock = try StateLock(statePath: configuration.statePath)
        } catch let busy as StateLock.Busy {
            throw .locked(busy)
        } catch {
            throw .setup("\(error)")
        }
        defer { withExtendedLifetime(lock) {} }

        let ingestor: Ingestor
        do {
            ingestor = try Ingestor(
                statePath: configuration.statePath, corpusRoot: configuration.corpusDirectory,
                layout: configuration.layout == .flat ? .flat : .daily, clock: clock)
            let repaired = try await ingestor.reconcile()
            if !repaired.isClean {
                logger.warning("repaired what an interrupted run left behind", metadata: [
                    "temporary_files_removed": "\(repaired.removedTemporaryFiles.count)",
                    "unrecorded_story_files_removed": "\(repaired.removedOrphanFiles.joined(separator: ", "))",
                    "manifests_repaired": "\(repaired.repairedManifests.joined(separator: ", "))",
                ])
            }
        } catch {
            throw .setup("\(error)")
        }

        let settings = configuration.fetch
        let client = HTTPClient(settings: HTTPClientSettings(
            userAgent: settings.userAgent, timeout: settings.timeout, connectTimeout: settings.connectTimeout,
            maxBodyBytes: settings.maxBodyBytes, maxConnections: settings.maxConnections,
            maxConnectionsPerHost: settings.maxConnectionsPerHost))
        defer { client.shutdown() }

        var reports: [FeedRunReport] = []
        let width = max(1, settings.maxConnections)
        await withTaskGroup(of: FeedRunReport.self) { group in
            var next = 0
            func startNext() {
                guard next < configuration.feeds.count else { return }
                let feed = configuration.feeds[next]
                next += 1
                group.addTask { await poll(feed, client: client, ingestor: ingestor) }
            }
            for _ in 0..<min(width, configuration.feeds.count) { startNext() }
            while let report = await group.next() {
                reports.append(report)
                progress(report)
                startNext()
            }
        }
        return PassSummary(reports: reports)
    }

    private func poll(_ feed: FeedSource, client: HTTPClient, ingestor: Ingestor) async -> FeedRunReport {
        var report = FeedRunReport(name: feed.name, url: feed.url, outcome: .ok)
        let feedID: Int64
        let previous: FeedHTTPState
        do {
            (feedID, previous) = try await ingestor.prepare(url: feed.url, name: feed.name)
        } catch {
            report.outcome = .failed("state: \(error)")
            return report
        }
        func fail(_ message: String) async -> FeedRunReport {
            report.outcome = .failed(message)
            logger.error("feed failed", metadata: ["feed": "\(feed.name)", "url": "\(feed.url)", "reason": "\(message)"])
            try? await ingestor.recordFailure(feedID: feedID, message: message)
            return report
        }

        let response: FetchResponse
        do {
            response = try await client.fetch(FetchRequest(
                url: feed.url, etag: previous.etag, lastModified: previous.lastModified, allowFileScheme: true))
        } catch {
            return await fail(error.description)
        }
        if response.isNotModified {
            report.outcome = .notModified
            try? await ingestor.recordNotModified(feedID: feedID, http: previous)
            return report
        }
        guard response.isSuccess else {
            return await fail(Self.httpFailure(response, url: feed.url))
        }
        let http = FeedHTTPState(etag: response.headers["etag"], lastModified: response.headers["last-modified"],
                                 bodySHA256: sha256Hex(response.body))
        if http.bodySHA256 == previous.bodySHA256 {
            // Same bytes as last time (a server without working validators): nothing to parse.
            report.outcome = .notModified
            try? await ingestor.recordNotModified(feedID: feedID, http: http)
            return report
        }
        let parsed: ParsedFeed
        do {
            parsed = try FeedParser.parse(response.body, url: response.effectiveURL, contentType: response.headers["content-type"])
        } catch {
            return await fail("\(response.effectiveURL): \(error.description)")
        }
        if parsed.bozo {
            report.warning = "malformed feed read in recovery mode: \(parsed.bozoReason ?? "unknown problem")"
            logger.warning("malformed feed", metadata: ["feed": "\(feed.name)", "url": "\(feed.url)", "reason": "\(parsed.bozoReason ?? "")"])
        }
        do {
            return try await ingestor.ingest(feedID: feedID, source: (feed.name, feed.url), feed: parsed, http: http, report: report)
        } catch {
            return await fail("storing stories failed: \(error)")
        }
    }

    static func httpFailure(_ response: FetchResponse, url: String) -> String {
        let advice: String
        switch response.status {
        case 401, 403: advice = "the server refuses access; check whether the feed needs credentials or blocks this User-Agent"
        case 404: advice = "the feed is not at this URL; check it or remove the feed"
        case 410: advice = "the publisher says the feed is gone for good; remove it from the config"
        case 429: advice = "the server is rate limiting; it is tried again later"
        case 500...599: advice = "the server has a problem; it is tried again later"
        default: advice = "an unexpected response"
        }
        return "HTTP \(response.status) from \(response.effectiveURL): \(advice)"
    }
}
