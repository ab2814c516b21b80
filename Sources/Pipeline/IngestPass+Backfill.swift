import FeedConfig
import FeedModel
import FeedParser
import Fetcher
import Foundation
import Logging
import StateStore

// Backfill: recovering the entries that fell out of a feed's window, from what the publisher
// offers (RFC 5005 archive and paged-feed links, then news sitemaps), after the pass's polls.
extension IngestPass {
    /// What is left of the pass's backfill caps (`backfill.max_pages_per_pass`, `max_urls_per_pass`).
    struct BackfillBudget {
        var documents: Int
        var urls: Int
    }

    /// Why a backfill step stopped the backfill for this pass: it is to continue later (a cap
    /// reached, a host asking to wait, a poll due), or the state failed (logged as an error).
    enum BackfillPause: Error {
        case later(String)
        case state(String)
    }

    /// Works on the backfills under way of the selected feeds, in configuration order, within
    /// the pass's caps. Stops starting requests when the pass is to stop or a feed is due for
    /// its regular poll (the backfill continues at the next pass).
    func backfill(in session: IngestSession, pages: ArticlePageFetcher, shouldStart: @escaping @Sendable () -> Bool) async -> [BackfillReport] {
        let ingestor = session.ingestor
        guard let (jobs, ids) = try? await ingestor.backfillJobs(), !jobs.isEmpty else { return [] }
        var budget = BackfillBudget(documents: configuration.backfillPerPass.maxPages, urls: configuration.backfillPerPass.maxURLs)
        let feeds = selectedFeeds
        // No poll runs while backfills do, so the first regular poll due stays where it is now.
        let firstDue = await ingestor.nextDue(feeds.map(\.url)) ?? .distantFuture
        let canContinue: @Sendable () async -> Bool = { [clock] in
            shouldStart() && clock() < firstDue
        }
        var reports: [BackfillReport] = []
        for feed in feeds {
            guard let feedID = ids[feed.url], let job = jobs[feedID] else { continue }
            guard await canContinue() else { break }
            reports.append(await backfill(feed, feedID: feedID, job: job, session: session, pages: pages, budget: &budget, canContinue: canContinue))
        }
        return reports
    }

    /// Runs one feed's backfill until it ends or must stop for this pass.
    private func backfill(_ feed: FeedSource, feedID: Int64, job start: BackfillJob, session: IngestSession, pages: ArticlePageFetcher,
                          budget: inout BackfillBudget, canContinue: @Sendable () async -> Bool) async -> BackfillReport {
        var report = BackfillReport(name: feed.name, url: feed.url)
        var job = start
        let settings = configuration.backfill(for: feed)
        let ingestor = session.ingestor
        if !settings.enabled {
            job.note("backfill was switched off for this feed before it ran (backfill.enabled: false)")
            job.phase = .done
        }
        do {
            while job.phase != .done {
                guard await canContinue() else { throw BackfillPause.later("a regular poll is due, or the pass is stopping") }
                switch job.phase {
                case .archive:
                    try await archiveStep(feed, feedID: feedID, job: &job, settings: settings, session: session, pages: pages,
                                          budget: &budget, report: &report)
                case .sitemaps:
                    try await sitemapStep(feed, feedID: feedID, job: &job, settings: settings, session: session, budget: &budget, report: &report)
                case .urls:
                    try await urlStep(feed, feedID: feedID, job: &job, settings: settings, session: session, pages: pages,
                                      budget: &budget, report: &report)
                case .done:
                    break
                }
            }
        } catch let pause as BackfillPause {
            switch pause {
            case let .later(why): report.paused = why
            case let .state(why):
                report.paused = why
                logger.error("backfill not saved", metadata: ["feed": "\(feed.name)", "reason": "\(why)"])
            }
            return report
        } catch {
            report.paused = "\(error)"
            return report
        }
        let result = Self.resultLine(job)
        do {
            try await ingestor.finishBackfill(feedID: feedID, result: result)
            report.result = result
        } catch {
            report.paused = "recording the backfill's end failed: \(error)"
        }
        return report
    }

    /// What `status` shows of an ended backfill.
    static func resultLine(_ job: BackfillJob) -> String {
        var parts: [String] = []
        let why = job.reason == .overflow ? "after a window overflow" : "to seed the feed"
        let gap = "\(ISO8601.string(job.gapStart)) to \(ISO8601.string(job.gapEnd))"
        if job.stored > 0 || job.duplicates > 0 {
            parts.append("recovered \(job.stored) \(job.stored == 1 ? "story" : "stories") \(why) (\(job.storedViaArchive) via archive, "
                         + "\(job.storedViaSitemap) via sitemap; \(job.duplicates) duplicate\(job.duplicates == 1 ? "" : "s") dropped), gap \(gap)")
        } else {
            parts.append("nothing recovered \(why), gap \(gap)")
        }
        var sources: [String] = []
        if !job.archiveLinked {
            sources.append("no archive link in the feed")
        } else {
            sources.append("\(job.archivePages) archive page\(job.archivePages == 1 ? "" : "s") read")
        }
        if !job.archiveReachedKnown {
            if job.siteOrigin == nil {
                sources.append("no web site to look for a sitemap on")
            } else if job.sitemapsListed {
                sources.append(job.sitemapFound ? "sitemaps read, \(job.urlsUsed) of their pages fetched" : "no sitemap at \(job.siteOrigin ?? "")")
            }
        }
        parts.append(sources.joined(separator: ", "))
        parts.append(contentsOf: job.notes)
        return parts.joined(separator: "; ")
    }

    // MARK: RFC 5005 archives and paged feeds

    /// Reads the next archive (or next page) document: stores its unknown entries inside the gap
    /// and moves to the next, until an entry already known or one older than the gap.
    private func archiveStep(_ feed: FeedSource, feedID: Int64, job: inout BackfillJob, settings: BackfillSettings,
                             session: IngestSession, pages: ArticlePageFetcher, budget: inout BackfillBudget,
                             report: inout BackfillReport) async throws {
        guard let url = job.nextArchivePage else {
            job.phase = .sitemaps
            return
        }
        func leaveArchive(_ note: String?) {
            if let note { job.note(note) }
            job.nextArchivePage = nil
            job.phase = .sitemaps
        }
        guard !job.documentsRead.contains(url) else {
            leaveArchive("the archive links loop back to \(url)")
            return try await save(feedID, job, session)
        }
        guard job.pagesUsed < settings.maxPages else {
            leaveArchive("stopped after backfill.max_pages (\(settings.maxPages)) documents")
            return try await save(feedID, job, session)
        }
        guard budget.documents > 0 else { throw BackfillPause.later("backfill.max_pages_per_pass is spent") }
        let isFile = feed.url.lowercased().hasPrefix("file:")
        if isFile, let refusal = ArticlePageFetcher.localPageRefusal(url, feedURL: feed.url, allowed: true) {
            leaveArchive("archive link not followed: \(refusal)")
            return try await save(feedID, job, session)
        }
        budget.documents -= 1
        job.pagesUsed += 1
        report.documentsFetched += 1
        let response: FetchResponse
        switch try await fetchDocument(FetchRequest(url: url, allowFileScheme: isFile, fromContent: !isFile), session: session) {
        case let .success(answer) where answer.isSuccess:
            response = answer
        case let .success(answer):
            leaveArchive("archive page: \(answer.failureMessage)")
            return try await save(feedID, job, session)
        case let .failure(error):
            leaveArchive("archive page \(url): \(error.description)")
            return try await save(feedID, job, session)
        }
        let read: FeedRead
        do {
            read = try await readFeed(response, feed: feed, feedID: feedID, state: session.ingestor)
        } catch let failure as ReadFailure {
            leaveArchive("archive page \(failure.message)")
            return try await save(feedID, job, session)
        } catch {
            throw BackfillPause.state("state: \(error)")
        }
        job.documentsRead.append(url)
        job.archivePages += 1
        let gapStart = job.gapStart
        let inGap = read.fresh.filter { ($0.published ?? gapStart) >= gapStart }
        // The walk ends at an entry already known, or once a document holds nothing as recent as the gap.
        let reachedKnown = read.fresh.count < read.keys.count || inGap.count < read.fresh.count
        if reachedKnown {
            job.archiveReachedKnown = true
            job.nextArchivePage = nil
            job.phase = .done
        } else if let next = read.olderEntriesURL {
            job.nextArchivePage = next
        } else {
            leaveArchive(nil)
        }
        try await store(inGap, typicalLength: read.typicalLength, language: read.language, observation: read.observation, via: .archive,
                        feed: feed, feedID: feedID, job: &job, session: session, pages: pages, report: &report)
    }

    /// Fetches a document of a backfill. A host that asks to wait (a Retry-After now, or a hold
    /// from before) pauses the backfill, its hold kept in the state: the job stays as it was last
    /// saved, so this document is asked for again at the next pass. Other failures are returned.
    private func fetchDocument(_ request: FetchRequest, session: IngestSession) async throws -> Result<FetchResponse, FetchError> {
        let response: FetchResponse
        do {
            response = try await session.client.fetch(request)
        } catch {
            if case let .hostBackoff(until) = error.kind {
                throw BackfillPause.later("\(request.url): the host asked to wait until \(ISO8601.string(until))")
            }
            return .failure(error)
        }
        if case let .retryLater(until, _) = response.feedAnswer(now: clock()) {
            try? await session.ingestor.holdHost(HTTPClient.hostKey(for: response.effectiveURL), until: until)
            throw BackfillPause.later("\(request.url): the host asked to wait until \(ISO8601.string(until))")
        }
        return .success(response)
    }

    // MARK: Sitemaps

    /// Lists the site's sitemaps (robots.txt, /sitemap.xml) once, then reads one sitemap or index
    /// per step; when all are read, the pages inside the gap become the URLs to fetch.
    private func sitemapStep(_ feed: FeedSource, feedID: Int64, job: inout BackfillJob, settings: BackfillSettings,
                             session: IngestSession, budget: inout BackfillBudget, report: inout BackfillReport) async throws {
        guard let origin = job.siteOrigin, feed.fullText != .never else {
            if feed.fullText == .never { job.note("sitemaps not read: the feed's fulltext is never, and a sitemap gives no text") }
            job.phase = .done
            return try await save(feedID, job, session)
        }
        let now = clock()
        if !job.sitemapsListed {
            var listed: [String] = []
            if case let .success(robots) = await session.robots.robots(origin: origin, client: session.client, now: now) {
                listed = robots.sitemaps
            }
            for url in listed + [origin + "/sitemap.xml"] where !job.sitemapQueue.contains(url) { job.sitemapQueue.append(url) }
            job.sitemapsListed = true
            return try await save(feedID, job, session)
        }
        guard let url = job.sitemapQueue.first else {
            return try await chooseCandidates(feedID: feedID, job: &job, settings: settings, session: session)
        }
        if job.documentsRead.contains(url) {
            job.sitemapQueue.removeFirst()
            return
        }
        guard job.pagesUsed < settings.maxPages else {
            job.note("\(job.sitemapQueue.count) sitemap\(job.sitemapQueue.count == 1 ? "" : "s") not read: backfill.max_pages (\(settings.maxPages)) reached")
            job.sitemapQueue = []
            return try await chooseCandidates(feedID: feedID, job: &job, settings: settings, session: session)
        }
        guard budget.documents > 0 else { throw BackfillPause.later("backfill.max_pages_per_pass is spent") }
        job.sitemapQueue.removeFirst()
        job.documentsRead.append(url)
        let isFallback = url == origin + "/sitemap.xml"
        guard let scheme = URLComponents(string: url)?.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            job.note("sitemap \(url) not read: only http and https sitemaps are")
            return try await save(feedID, job, session)
        }
        if configuration.fetch.robotsTxt, case .success(false) = await session.robots.allows(url, client: session.client, now: now) {
            job.note("robots.txt disallows \(url)")
            return try await save(feedID, job, session)
        }
        budget.documents -= 1
        job.pagesUsed += 1
        report.documentsFetched += 1
        let response: FetchResponse
        switch try await fetchDocument(FetchRequest(url: url, fromContent: true, accept: "application/xml, text/xml;q=0.9, */*;q=0.5",
                                                    maxBodyBytes: configuration.fetch.maxBodyBytes), session: session) {
        case let .success(answer): response = answer
        case let .failure(error):
            job.note("sitemap \(url): \(error.description)")
            return try await save(feedID, job, session)
        }
        guard response.isSuccess else {
            // No /sitemap.xml is common and says nothing; a listed sitemap that fails is worth a note.
            if !(isFallback && (response.status == 404 || response.status == 410)) { job.note("sitemap: \(response.failureMessage)") }
            return try await save(feedID, job, session)
        }
        var body = response.body
        if Gunzip.isGzip(body) {
            do {
                body = try Gunzip.decompress(body, limit: configuration.fetch.maxBodyBytes)
            } catch {
                job.note("sitemap \(url): \(error.description)")
                return try await save(feedID, job, session)
            }
        }
        let (documentURL, bytes) = (response.baseURL, body)
        let parsed = await OffPool.run { () -> Result<SitemapDocument, SitemapError> in
            Result { () throws(SitemapError) in try SitemapParser.parse(bytes, url: documentURL) }
        }
        let document: SitemapDocument
        switch parsed {
        case let .success(read): document = read
        case let .failure(error):
            if !isFallback { job.note("sitemap \(url): \(error.description)") }
            return try await save(feedID, job, session)
        }
        job.sitemapFound = true
        switch document.kind {
        case .index:
            // A child sitemap unchanged since before the gap holds nothing of it; the newest first.
            let children = document.entries
                .filter { ($0.lastModified ?? job.gapStart) >= job.gapStart }
                .sorted { ($0.lastModified ?? .distantPast) > ($1.lastModified ?? .distantPast) }
            // The queue never holds more than the backfill may still read (an index may list
            // tens of thousands of sitemaps, and the job is saved at every step).
            let room = max(0, settings.maxPages - job.pagesUsed)
            var skipped = 0
            for child in children where !job.documentsRead.contains(child.url) && !job.sitemapQueue.contains(child.url) {
                if job.sitemapQueue.count < room { job.sitemapQueue.append(child.url) } else { skipped += 1 }
            }
            if skipped > 0 {
                job.note("\(skipped) sitemap\(skipped == 1 ? "" : "s") of \(url) not read: backfill.max_pages (\(settings.maxPages)) reached")
            }
        case .urlset:
            let scope = BackfillScope(origin: origin, pathPrefix: job.pathPrefix)
            for entry in document.entries {
                guard let date = entry.date, date >= job.gapStart, date <= job.gapEnd, scope.contains(entry.url) else { continue }
                job.candidates.append(BackfillJob.Candidate(url: entry.url, published: date, title: entry.title))
            }
            // A sitemap lists up to 50,000 URLs; the job keeps no more than it could fetch twice over.
            if job.candidates.count > 2 * settings.maxURLs + 100 {
                job.candidates.sort { ($0.published ?? .distantPast) > ($1.published ?? .distantPast) }
                job.candidates.removeLast(job.candidates.count - (2 * settings.maxURLs + 100))
            }
        }
        try await save(feedID, job, session)
    }

    /// Once every sitemap is read: the gap's pages not already known, oldest first, within `max_urls`.
    private func chooseCandidates(feedID: Int64, job: inout BackfillJob, settings: BackfillSettings, session: IngestSession) async throws {
        let canonicalizer = Ingestor.canonicalizer(for: configuration.dedupe)
        var seen = Set<String>()
        let unique = job.candidates.map { ($0, canonicalizer.canonicalize($0.url)) }.filter { seen.insert($0.1).inserted }
        let canonical = unique.map(\.1)
        let known: Set<String>
        do {
            known = try await session.ingestor.known(feedID: feedID, keys: canonical, urls: canonical)
        } catch {
            throw BackfillPause.state("state: \(error)")
        }
        var candidates = unique.filter { !known.contains($0.1) }.map(\.0)
        candidates.sort { ($0.published ?? .distantPast) < ($1.published ?? .distantPast) }
        let room = max(0, settings.maxURLs - job.urlsUsed)
        if candidates.count > room {
            job.note("\(candidates.count) sitemap URLs in the gap; \(room) fetched (backfill.max_urls), the oldest first")
            candidates.removeLast(candidates.count - room)
        }
        job.candidates = candidates
        job.phase = candidates.isEmpty ? .done : .urls
        try await save(feedID, job, session)
    }

    /// Fetches the next few sitemap URLs' pages and stores their stories.
    private func urlStep(_ feed: FeedSource, feedID: Int64, job: inout BackfillJob, settings: BackfillSettings, session: IngestSession,
                         pages: ArticlePageFetcher, budget: inout BackfillBudget, report: inout BackfillReport) async throws {
        let room = min(job.candidates.count, settings.maxURLs - job.urlsUsed)
        guard room > 0 else {
            job.phase = .done
            return
        }
        guard budget.urls > 0 else { throw BackfillPause.later("backfill.max_urls_per_pass is spent") }
        let count = min(8, room, budget.urls)
        let chunk = job.candidates.prefix(count)
        job.candidates.removeFirst(count)
        job.urlsUsed += count
        budget.urls -= count
        report.urlsFetched += count
        if job.candidates.isEmpty || job.urlsUsed >= settings.maxURLs { job.phase = .done }
        let canonicalizer = Ingestor.canonicalizer(for: configuration.dedupe)
        let entries = chunk.map { FeedEntry(title: $0.title, link: $0.url, published: $0.published) }
        let fresh = Ingestor.uniqueKeys(entries, canonicalizer: canonicalizer).map {
            NewEntry(key: $0.key, entry: $0.entry, canonicalizer: canonicalizer, forTeaserRule: false)
        }
        // A sitemap URL is worth a story only through its page: one that fails is left out (not
        // remembered as empty), so the feed or a later backfill can still bring it.
        var always = feed
        always.fullText = .always
        let fetched: ArticlePages
        do {
            fetched = try await articlePages(for: always, fresh: fresh, typicalLength: 0, fetcher: pages, state: session.ingestor)
        } catch {
            throw BackfillPause.state("state: \(error)")
        }
        for failure in fetched.failures.prefix(2) { job.note("sitemap URL: \(failure)") }
        let withPages = fresh.filter { fetched.articles[$0.key] != nil }
        try await store(withPages, fetchedPages: fetched, typicalLength: 0, language: nil, observation: nil, via: .sitemap, feed: feed,
                        feedID: feedID, job: &job, session: session, pages: pages, report: &report)
    }

    // MARK: Storing

    /// Stores a batch of backfilled entries through the same decisions as a poll's (the article
    /// pages the feed's policy asks for, then the `Ingestor`), saving `job` with them; `job` then
    /// counts the batch as the commit saved it (`BackfillJob.count`).
    private func store(_ entries: [NewEntry], fetchedPages given: ArticlePages? = nil, typicalLength: Int, language: String?,
                       observation: PollScheduler.Observation?, via: StoryVia, feed: FeedSource, feedID: Int64, job: inout BackfillJob,
                       session: IngestSession, pages fetcher: ArticlePageFetcher, report: inout BackfillReport) async throws {
        guard !entries.isEmpty else { return try await save(feedID, job, session) }
        let ingestor = session.ingestor
        let pages: ArticlePages
        if let given {
            pages = given
        } else {
            do {
                pages = try await articlePages(for: feed, fresh: entries, typicalLength: typicalLength, fetcher: fetcher, state: ingestor)
            } catch {
                throw BackfillPause.state("state: \(error)")
            }
        }
        let now = clock()
        let canonicalizer = Ingestor.canonicalizer(for: configuration.dedupe)
        let prepared = await OffPool.run { entries.map { PreparedEntry($0, page: pages.articles[$0.key], canonicalizer: canonicalizer, polledAt: now) } }
        let poll = ParsedPoll(
            feed: feed, feedID: feedID, language: language, keys: entries.map(\.key), entries: prepared, http: FeedHTTPState(),
            report: FeedRunReport(name: feed.name, url: feed.url, outcome: .ok), previouslyRead: true, before: FeedSchedule(), polledAt: now,
            scheduler: scheduler, observation: observation ?? PollScheduler.Observation(feed: ParsedFeed(), freshnessLifetime: nil, windowOverflow: false),
            backfillBatch: BackfillBatch(via: via, job: job))
        let stored: [FeedRunReport]
        do {
            stored = try await ingestor.ingest([poll])
        } catch {
            throw BackfillPause.state("storing backfilled stories failed: \(error)")
        }
        for item in stored {
            switch via {
            case .archive: report.storedViaArchive += item.stored
            case .sitemap: report.storedViaSitemap += item.stored
            }
            report.duplicates += item.duplicates
            report.duplicatesByReason.merge(item.duplicatesByReason, uniquingKeysWith: +)
            report.storedFiles += item.storedFiles
            job.count(stored: item.stored, duplicates: item.duplicates, via: via)
        }
    }

    private func save(_ feedID: Int64, _ job: BackfillJob, _ session: IngestSession) async throws {
        do {
            try await session.ingestor.saveBackfill(feedID: feedID, job: job)
        } catch {
            throw BackfillPause.state("saving the backfill's progress failed: \(error)")
        }
    }

    /// One log line per backfill worked on in the pass.
    func logBackfill(_ report: BackfillReport) {
        var metadata: Logger.Metadata = [
            "feed": "\(report.name)", "stored": "\(report.stored)", "via_archive": "\(report.storedViaArchive)",
            "via_sitemap": "\(report.storedViaSitemap)", "duplicates": "\(report.duplicates)",
            "documents": "\(report.documentsFetched)", "pages": "\(report.urlsFetched)",
        ]
        if let result = report.result {
            metadata["result"] = "\(result)"
            logger.notice("backfill finished", metadata: metadata)
        } else {
            metadata["reason"] = "\(report.paused ?? "")"
            logger.info("backfill continues at the next pass", metadata: metadata)
        }
    }
}
