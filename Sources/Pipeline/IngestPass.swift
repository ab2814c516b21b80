import ArticleExtractor
import CorpusWriter
import Dedupe
import FeedConfig
import FeedModel
import FeedParser
import Fetcher
import Foundation
import Logging
import StateStore

/// One pass over the configured feeds: fetch each (concurrently), parse, and store the new
/// stories. One feed's failure never stops the others.
public struct IngestPass: Sendable {
    public var configuration: Configuration
    public var logger: Logger
    public var clock: @Sendable () -> Date
    /// Poll every feed, due or not (backoff, Retry-After and the schedule are ignored).
    public var pollAll: Bool
    /// Only these feeds (names or URLs); nil: all configured feeds.
    public var only: Set<String>?
    /// Where each poll and pass is recorded (nil: nowhere).
    public var metrics: PipelineMetrics?

    public init(configuration: Configuration, logger: Logger, pollAll: Bool = false, only: Set<String>? = nil,
                metrics: PipelineMetrics? = nil, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.pollAll = pollAll
        self.only = only
        self.clock = clock
    }

    var scheduler: PollScheduler {
        PollScheduler(minimumInterval: configuration.schedule.minInterval, maximumInterval: configuration.schedule.maxInterval,
                      defaultInterval: configuration.schedule.defaultInterval, backoffBase: configuration.fetch.backoffBase,
                      maxBackoff: configuration.fetch.maxBackoff)
    }

    /// The feeds this pass considers (all configured feeds, or those named in `only`).
    public var selectedFeeds: [FeedSource] {
        guard let only else { return configuration.feeds }
        return configuration.feeds.filter { only.contains($0.name) || only.contains($0.url) }
    }

    /// Runs the pass; `progress` is called as each feed's poll is committed, in feed order.
    public func run(progress: @escaping @Sendable (FeedRunReport) -> Void = { _ in }) async throws(PassError) -> PassSummary {
        let session = try await IngestSession.open(configuration: configuration, logger: logger, clock: clock)
        defer { session.close() }
        let summary = await run(in: session, progress: progress)
        await runHook(after: summary)
        return summary
    }

    /// Runs `on_new_stories` when the pass stored anything; nil when there was nothing to run.
    @discardableResult
    public func runHook(after summary: PassSummary) async -> NewStoryHook.Outcome? {
        guard let command = configuration.onNewStories else { return nil }
        let files = summary.storedFiles.map { configuration.corpusDirectory + "/" + $0 }
        guard !files.isEmpty else { return nil }
        // Relative paths in the command start at the config's folder, like every path of the config.
        return await NewStoryHook.run(command: command, files: files, timeout: configuration.onNewStoriesTimeout, logger: logger,
                               directory: (configuration.path as NSString).deletingLastPathComponent, corpus: configuration.corpusDirectory)
    }

    /// Runs the pass with an open session (the service keeps one for its whole life).
    /// `shouldStart` is asked before each feed: false stops starting new work.
    public func run(in session: IngestSession, shouldStart: @escaping @Sendable () -> Bool = { true },
                    progress: @escaping @Sendable (FeedRunReport) -> Void = { _ in }) async -> PassSummary {
        let started = ContinuousClock.now
        let ingestor = session.ingestor
        let client = session.client
        let pages = ArticlePageFetcher(client: session.client, robots: session.robots, budget: session.pageBudget, settings: configuration.fetch)
        let settings = configuration.fetch
        await ingestor.pruneEvents()
        var reports: [FeedRunReport] = []
        let feeds = selectedFeeds
        let width = max(1, settings.maxConnections)
        // Feeds are fetched, parsed and their pages extracted concurrently, but their stories are
        // decided and stored in configuration order, whatever order the fetches finish in: the
        // same feeds give the same corpus. A slow feed holds back the commits behind it, so the
        // number of polls finished but not yet committed is bounded (memory stays bounded).
        let lookahead = 2 * width
        // Group commit: while one group of consecutive finished polls is being stored, the next
        // ones finish and queue up; the next group takes all of them (at most `maxGroup`), so a
        // flush of the corpus and of the state is shared by many feeds when storing is the
        // bottleneck, and costs one feed's wait when it is not.
        let maxGroup = min(64, 2 * width)
        enum Event: Sendable {
            case polled(Int, PollOutcome)
            case stored([FeedRunReport])
        }
        await withTaskGroup(of: Event.self) { group in
            var next = 0
            var inFlight = 0
            var gathered = 0
            var storing = false
            var finished: [Int: PollOutcome] = [:]
            func startMore() {
                while inFlight < width, next < feeds.count, next - gathered < lookahead, shouldStart() {
                    let index = next
                    let feed = feeds[index]
                    next += 1
                    inFlight += 1
                    group.addTask { .polled(index, await poll(feed, client: client, pages: pages, state: ingestor)) }
                }
            }
            func storeMore() {
                guard !storing else { return }
                var outcomes: [PollOutcome] = []
                while outcomes.count < maxGroup, let outcome = finished.removeValue(forKey: gathered) {
                    outcomes.append(outcome)
                    gathered += 1
                }
                guard !outcomes.isEmpty else { return }
                storing = true
                group.addTask { .stored(await store(outcomes, ingestor: ingestor)) }
            }
            startMore()
            while let event = await group.next() {
                switch event {
                case let .polled(index, outcome):
                    inFlight -= 1
                    finished[index] = outcome
                case let .stored(stored):
                    storing = false
                    for report in stored {
                        metrics?.record(report)
                        logOutcome(report)
                        progress(report)
                        // The pass keeps every report to its end: not the per-story details
                        // already logged and counted (at 130,000 stories they were ~20 MB),
                        // nor the stored files' names unless `on_new_stories` is to get them
                        // (another 10 MB).
                        var kept = report
                        kept.storedNotes = []
                        kept.publishToIngestLags = []
                        if configuration.onNewStories == nil { kept.storedFiles = [] }
                        reports.append(kept)
                    }
                }
                storeMore()
                startMore()
            }
        }
        // Backfills come after every poll of the pass, so they never hold one up.
        var backfills = await backfill(in: session, pages: pages, shouldStart: shouldStart)
        for index in backfills.indices {
            metrics?.record(backfills[index])
            logBackfill(backfills[index])
            if configuration.onNewStories == nil { backfills[index].storedFiles = [] }
        }
        if let metrics {
            metrics.recordPass(duration: ContinuousClock.now - started, finishedAt: clock(),
                               feedStates: await session.feedStates(configuration.feeds))
        }
        return PassSummary(reports: reports, backfills: backfills)
    }
}

extension IngestPass {

    /// Fetches, parses and extracts one feed; everything but storing its stories. The report is
    /// built here, from what each stage returns.
    func poll(_ feed: FeedSource, client: HTTPClient, pages fetcher: ArticlePageFetcher, state: some PollState) async -> PollOutcome {
        var report = FeedRunReport(name: feed.name, url: feed.url, outcome: .ok)
        let feedID: Int64
        let previous: FeedHTTPState
        var schedule: FeedSchedule
        do {
            (feedID, previous, schedule) = try await state.prepare(url: feed.url, name: feed.name)
        } catch {
            report.outcome = .failed("state: \(error)")
            return .finished(report)
        }
        let now = clock()
        let scheduler = self.scheduler
        if let reason = scheduler.skipReason(schedule, now: now, pollAll: pollAll) {
            report.outcome = .skipped(reason)
            return .finished(report)
        }
        /// Records a failure and schedules the retry: exponential backoff, or the host's Retry-After.
        func fail(_ message: String, retryAfter: Date? = nil, countsAsError: Bool = true) async -> PollOutcome {
            if countsAsError {
                report.outcome = .failed(message)
                logger.error("feed failed", metadata: ["feed": "\(feed.name)", "url": "\(feed.url)", "reason": "\(message)"])
            } else {
                // Waiting for a host that asked for it is not the feed's failure.
                report.outcome = .skipped("waiting: \(message)")
                logger.info("feed waits for its host", metadata: ["feed": "\(feed.name)", "url": "\(feed.url)", "reason": "\(message)"])
            }
            var next = countsAsError ? scheduler.afterError(schedule, feed: feed, now: now) : schedule
            if let retryAfter { next.nextPollAt = max(next.nextPollAt ?? retryAfter, retryAfter) }
            try? await state.record(feedID: feedID, result: countsAsError ? .error : .held, error: message, http: nil, schedule: next)
            return .finished(report)
        }
        /// Records a poll that ends without new entries to decide.
        func finish(_ outcome: FeedRunReport.Outcome, result: PollResult, error: String? = nil, http: FeedHTTPState?) async -> PollOutcome {
            report.outcome = outcome
            try? await state.record(feedID: feedID, result: result, error: error, http: http, schedule: schedule)
            return .finished(report)
        }

        // 1. Fetch, and what the answer means.
        let requested = schedule.fetchURL ?? feed.url
        let response: FetchResponse
        let fetchStarted = ContinuousClock.now
        do {
            response = try await client.fetch(FetchRequest(
                url: requested, etag: previous.etag, lastModified: previous.lastModified, allowFileScheme: true))
            report.fetchDuration = ContinuousClock.now - fetchStarted
        } catch {
            report.fetchDuration = ContinuousClock.now - fetchStarted
            if case let .hostBackoff(until) = error.kind {
                return await fail(error.description, retryAfter: until, countsAsError: false)
            }
            return await fail(error.description)
        }
        report.bytesFetched = response.body.count
        report.httpStatus = response.status
        // A 404 or 500 says nothing about the validators: only 304 and 2xx answers count.
        if previous.etag != nil || previous.lastModified != nil, response.isNotModified || response.isSuccess {
            report.conditionalGET = response.isNotModified ? .notModified : .modified
        }
        schedule.freshnessLifetime = response.freshnessLifetime
        // A Retry-After in seconds counts from when the answer came, not from the poll's start.
        switch response.feedAnswer(now: clock()) {
        case let .gone(message):
            schedule.disabledReason = "HTTP 410 Gone from \(response.effectiveURL) at \(ISO8601.string(now)); remove the feed or change its URL"
            logger.error("feed disabled", metadata: ["feed": "\(feed.name)", "url": "\(feed.url)", "reason": "\(schedule.disabledReason ?? "")"])
            return await finish(.failed("disabled: \(message)"), result: .error, error: schedule.disabledReason, http: nil)
        case let .retryLater(until, message):
            try? await state.holdHost(HTTPClient.hostKey(for: response.effectiveURL), until: until)
            return await fail(message + " (Retry-After: the host is left alone until \(ISO8601.string(until)))", retryAfter: until)
        case .notModified:
            schedule = scheduler.afterSuccess(schedule, feed: feed, now: now, observation: nil)
            return await finish(.notModified, result: .notModified, http: previous)
        case let .failed(message):
            return await fail(message)
        case .document:
            break
        }
        let applied: String?
        (schedule, applied) = RedirectPolicy.update(schedule, requested: requested, response: response)
        if let applied {
            logger.notice("feed moved permanently; polling the new URL from now on", metadata: [
                "feed": "\(feed.name)", "configured_url": "\(feed.url)", "new_url": "\(applied)"])
            report.addWarning("moved permanently to \(applied); polled there from now on (update the config to silence this)")
        }
        let http = FeedHTTPState(etag: response.headers["etag"], lastModified: response.headers["last-modified"],
                                 bodySHA256: sha256Hex(response.body))
        if http.bodySHA256 == previous.bodySHA256 {
            // Same bytes as last time (a server without working validators): nothing to parse.
            schedule = scheduler.afterSuccess(schedule, feed: feed, now: now, observation: nil)
            return await finish(.notModified, result: .notModified, http: http)
        }

        // 2. Parse, and 3. the new entries with their keys, canonical links and feed text, worked
        // out once, in this feed's own task (only the decision and the commit wait for the
        // Ingestor); the parsed document is let go before the article pages are fetched.
        let read: FeedRead
        do {
            read = try await readFeed(response, feed: feed, feedID: feedID, state: state)
        } catch let failure as ReadFailure {
            report.parseDuration = failure.parseDuration
            return await fail(failure.message)
        } catch {
            return await fail("state: \(error)")
        }
        report.parseDuration = read.parseDuration
        for warning in read.warnings { report.addWarning(warning) }

        // 4. Article pages, for the new entries whose feed text is a teaser.
        let pages: ArticlePages
        do {
            pages = try await articlePages(for: feed, fresh: read.fresh, typicalLength: read.typicalLength, fetcher: fetcher, state: state)
        } catch {
            return await fail("state: \(error)")
        }
        report.pagesFetched = pages.articles.count
        report.bytesFetched += pages.bytes
        if let note = pages.capNote { report.addWarning(note) }
        if let first = pages.failures.first {
            for failure in pages.failures {
                logger.warning("article page not used", metadata: ["feed": "\(feed.name)", "reason": "\(failure)"])
            }
            report.addWarning("\(pages.failures.count) article page(s) not used (feed text kept): \(first)" + (pages.failures.count > 1 ? "; ..." : ""))
        }
        let canonicalizer = Ingestor.canonicalizer(for: configuration.dedupe)
        let prepared = await OffPool.run { [fresh = read.fresh] in
            fresh.map { PreparedEntry($0, page: pages.articles[$0.key], canonicalizer: canonicalizer, polledAt: now) }
        }
        let backfill = configuration.backfill(for: feed)
        let start = backfill.enabled ? BackfillStart(settings: backfill, olderEntriesURL: read.olderEntriesURL,
                                                     scope: BackfillScope.of(links: read.links), oldestEntry: read.oldestEntry) : nil
        return .parsed(ParsedPoll(
            feed: feed, feedID: feedID, language: read.language, keys: read.keys, entries: prepared, http: http, report: report,
            previouslyRead: schedule.pollInterval != nil, before: schedule, polledAt: now, scheduler: scheduler,
            observation: read.observation, backfillStart: start))
    }

    /// What a poll keeps of its parsed document.
    struct FeedRead: Sendable {
        var language: String?
        var observation: PollScheduler.Observation
        /// Every entry's key, in document order.
        var keys: [String]
        /// The entries not seen before, oldest first.
        var fresh: [NewEntry]
        /// The feed's median text length, for the teaser rule (0 when the policy does not ask it).
        var typicalLength: Int
        var warnings: [String]
        var parseDuration: Duration
        /// What a backfill would start from: the link to older entries, every entry's link and
        /// the oldest entry date.
        var olderEntriesURL: String?
        var links: [String] = []
        var oldestEntry: Date?
    }

    /// A document that is no feed.
    struct ReadFailure: Error {
        var message: String
        var parseDuration: Duration
    }

    /// Parses the feed document and works out its new entries. The parsed document lives only
    /// here: what the rest of the poll needs is in the `FeedRead`.
    func readFeed(_ response: FetchResponse, feed: FeedSource, feedID: Int64, state: some PollState) async throws -> FeedRead {
        let parsed: ParsedFeed
        let parseStarted = ContinuousClock.now
        do {
            let (body, url, contentType) = (response.body, response.baseURL, response.headers["content-type"])
            let limit = configuration.fetch.maxEntriesPerFeed
            parsed = try await OffPool.run { () -> Result<ParsedFeed, FeedParseError> in
                Result { () throws(FeedParseError) in try FeedParser.parse(body, url: url, contentType: contentType, maxEntries: limit) }
            }.get()
        } catch {
            throw ReadFailure(message: "\(response.effectiveURL): \(error.description)", parseDuration: ContinuousClock.now - parseStarted)
        }
        let parseDuration = ContinuousClock.now - parseStarted
        var warnings: [String] = []
        if parsed.bozo {
            warnings.append("malformed feed read in recovery mode: \(parsed.bozoReason ?? "unknown problem")")
            logger.warning("malformed feed", metadata: ["feed": "\(feed.name)", "url": "\(feed.url)", "reason": "\(parsed.bozoReason ?? "")"])
        }
        if parsed.entriesOmitted > 0 {
            let note = "the feed has \(parsed.entries.count + parsed.entriesOmitted) entries; only the first \(parsed.entries.count) are read (fetch.max_entries_per_feed)"
            warnings.append(note)
            logger.warning("feed has too many entries", metadata: ["feed": "\(feed.name)", "url": "\(feed.url)", "reason": "\(note)"])
        }
        let canonicalizer = Ingestor.canonicalizer(for: configuration.dedupe)
        let keyed = Ingestor.uniqueKeys(parsed.entries, canonicalizer: canonicalizer)
        let keys = keyed.map(\.key)
        let unseen = try await state.unseenKeys(feedID: feedID, keys: keys)
        let new = Ingestor.chronological(keyed.filter { unseen.contains($0.key) })
        // Only `fulltext: auto` asks the teaser rule, and only then do the entries read before
        // count, towards the feed's typical length.
        let teaserRule = feed.fullText == .auto && !new.isEmpty
        let seen = teaserRule ? keyed.filter { !unseen.contains($0.key) }.map(\.entry) : []
        let (fresh, typicalLength) = await OffPool.run {
            let fresh = new.map { NewEntry(key: $0.key, entry: $0.entry, canonicalizer: canonicalizer, forTeaserRule: teaserRule) }
            return (fresh, teaserRule ? FullTextRules.typicalLength(fresh.map(\.feedText) + seen.map(StoryBuilder.story)) : 0)
        }
        return FeedRead(language: parsed.language,
                        observation: .init(feed: parsed, freshnessLifetime: response.freshnessLifetime, windowOverflow: false),
                        keys: keys, fresh: fresh, typicalLength: typicalLength, warnings: warnings, parseDuration: parseDuration,
                        olderEntriesURL: parsed.olderEntriesURL, links: parsed.entries.compactMap(\.link),
                        oldestEntry: parsed.entries.compactMap { $0.published ?? $0.updated }.min())
    }

    /// One line per feed outcome and per stored story at info; the request's details at debug.
    /// (Failures were logged at error where they happened.)
    func logOutcome(_ report: FeedRunReport) {
        let feed: Logger.Metadata = ["feed": "\(report.name)"]
        switch report.outcome {
        case .ok:
            logger.info("feed polled", metadata: feed.merging([
                "entries": "\(report.entriesSeen)", "new": "\(report.newEntries)", "stored": "\(report.stored)",
                "duplicates": "\(report.duplicates)", "pages": "\(report.pagesFetched)"]) { $1 })
        case .notModified:
            logger.info("feed not modified", metadata: feed)
        case let .skipped(reason):
            logger.debug("feed skipped", metadata: feed.merging(["reason": "\(reason)"]) { $1 })
        case .failed:
            break
        }
        for note in report.storedNotes {
            logger.info("story stored", metadata: feed.merging(["file": "\(note.file)", "title": "\(note.title)", "text_source": "\(note.textSource)"]) { $1 })
        }
        if report.httpStatus != nil || report.fetchDuration != nil {
            var details = feed
            details["url"] = "\(report.url)"
            if let status = report.httpStatus { details["status"] = "\(status)" }
            details["bytes"] = "\(report.bytesFetched)"
            if let conditional = report.conditionalGET { details["conditional_get"] = "\(conditional == .notModified ? "hit" : "miss")" }
            if let fetch = report.fetchDuration { details["fetch_ms"] = "\(fetch.nanoseconds / 1_000_000)" }
            if let parse = report.parseDuration { details["parse_ms"] = "\(parse.nanoseconds / 1_000_000)" }
            logger.debug("feed request", metadata: details)
        }
    }

    /// Stores a group of consecutive polls in feed order: the parsed ones in one `Ingestor`
    /// call (one corpus flush, one state transaction), the others passed through.
    private func store(_ outcomes: [PollOutcome], ingestor: Ingestor) async -> [FeedRunReport] {
        let parsed = outcomes.compactMap { outcome -> ParsedPoll? in
            if case let .parsed(poll) = outcome { return poll }
            return nil
        }
        var stored: [FeedRunReport] = []
        if !parsed.isEmpty {
            do {
                stored = try await ingestor.ingest(parsed)
            } catch {
                for poll in parsed { stored.append(await failStoring(poll, error: error, state: ingestor)) }
            }
        }
        var reports: [FeedRunReport] = []
        var storedReports = stored.makeIterator()
        for outcome in outcomes {
            switch outcome {
            case let .finished(report): reports.append(report)
            case let .parsed(poll):
                let report = storedReports.next() ?? poll.report
                if report.windowOverflow {
                    let recovery = report.backfillScheduled != nil ? "a backfill will look for them" : "backfill is off for this feed"
                    logger.warning("window overflow: every entry was new, some may have been missed; polling this feed sooner; \(recovery)", metadata: [
                        "feed": "\(poll.feed.name)", "url": "\(poll.feed.url)", "entries": "\(poll.keys.count)"])
                }
                reports.append(report)
            }
        }
        return reports
    }

    /// Records that storing a poll's stories failed, with the error backoff.
    func failStoring(_ poll: ParsedPoll, error: any Error, state: some PollState) async -> FeedRunReport {
        let feed = poll.feed
        let message = "storing stories failed: \(error)"
        var report = poll.report
        report.outcome = .failed(message)
        logger.error("feed failed", metadata: ["feed": "\(feed.name)", "url": "\(feed.url)", "reason": "\(message)"])
        try? await state.record(feedID: poll.feedID, result: .error, error: message, http: nil,
                                schedule: scheduler.afterError(poll.before, feed: feed, now: clock()))
        return report
    }

    /// The article pages of a poll: the extracted articles by entry key, and what fetching them
    /// cost and met.
    struct ArticlePages: Sendable {
        var articles: [String: ExtractedArticle] = [:]
        var bytes = 0
        /// Why pages were not used (one line each).
        var failures: [String] = []
        /// Set when more entries wanted their page than `fetch.max_pages_per_poll` allows.
        var capNote: String?
    }

    /// Fetches the article pages of the new entries that need them (per the feed's `fulltext`
    /// policy; `typicalLength` is the feed's median text length), a few at a time; the client
    /// spaces requests to one host. A page that fails is noted; its entry keeps its feed text.
    func articlePages(for feed: FeedSource, fresh: [NewEntry], typicalLength: Int, fetcher: ArticlePageFetcher,
                      state: some PollState) async throws -> ArticlePages {
        var result = ArticlePages()
        guard feed.fullText != .never, !fresh.isEmpty else { return result }
        // An entry whose link is a stored story's is a duplicate already: its page is not fetched.
        let stored = try await state.storedURLs(among: fresh.compactMap(\.url))
        let candidates = fresh.filter { $0.url.map { !stored.contains($0) } ?? true }
        var wanted: [(key: String, url: String)] = []
        for entry in candidates {
            guard let link = entry.link else { continue }
            if feed.fullText == .always
                || FullTextRules.looksLikeSummary(markupTail: entry.markupTail, story: entry.feedText, typicalLength: typicalLength) {
                wanted.append((entry.key, link))
            }
        }
        guard !wanted.isEmpty else { return result }
        let cap = configuration.fetch.maxPagesPerPoll
        if wanted.count > cap {
            result.capNote = "\(wanted.count) entries want their article page; only \(cap) are fetched per poll (fetch.max_pages_per_poll), the others keep the feed's text"
            wanted.removeLast(wanted.count - cap)
        }
        guard !wanted.isEmpty else { return result }
        let now = clock()
        await withTaskGroup(of: (String, Result<ArticlePageFetcher.Page, ArticlePageFetcher.Failure>).self) { group in
            var next = 0
            func startNext() {
                guard next < wanted.count else { return }
                let (key, url) = wanted[next]
                next += 1
                group.addTask { (key, await fetcher.page(url, feedURL: feed.url, now: now)) }
            }
            for _ in 0..<min(4, wanted.count) { startNext() }
            while let (key, outcome) = await group.next() {
                switch outcome {
                case .success(let page):
                    result.articles[key] = page.article
                    result.bytes += page.bytes
                case .failure(let failure): result.failures.append(failure.description)
                }
                startNext()
            }
        }
        return result
    }

    /// The HTTP client settings a configuration asks for.
    public static func clientSettings(_ settings: FetchSettings) -> HTTPClientSettings {
        HTTPClientSettings(
            userAgent: settings.userAgent, timeout: settings.timeout, connectTimeout: settings.connectTimeout,
            lowSpeedLimit: settings.lowSpeedLimit, lowSpeedTime: settings.lowSpeedTime, maxBodyBytes: settings.maxBodyBytes,
            maxConnections: settings.maxConnections, maxConnectionsPerHost: settings.maxConnectionsPerHost,
            hostDelay: settings.hostDelay, proxy: settings.proxy, caBundle: settings.caBundle,
            allowPrivateNetworks: settings.allowPrivateNetworks,
            allowedAddresses: settings.allowedAddresses.compactMap(AddressRange.init), proxyArticlePages: settings.proxyArticlePages)
    }
}
