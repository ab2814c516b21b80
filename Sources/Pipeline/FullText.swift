import ArticleExtractor
import DatesAndCharsets
import FeedConfig
import FeedModel
import FeedParser
import Fetcher
import Foundation
import TextCleanup

/// Decides when an entry's feed text is only a teaser, and which text a story keeps.
enum FullTextRules {
    /// Below this many characters of body a feed text counts as a summary.
    static let shortBody = 600

    /// The last characters of an entry's markup, lower-cased: where a "read more" link sits.
    static func markupTail(of entry: FeedEntry) -> String {
        String((entry.content ?? entry.summary ?? "").suffix(300)).lowercased()
    }

    /// Whether an entry's feed text (`story`) looks like a summary of the article: short, ending
    /// in an ellipsis or a "read more" link (in `tail`, see `markupTail(of:)`), or much shorter
    /// than the feed's typical entry.
    static func looksLikeSummary(markupTail tail: String, story: StoryText, typicalLength: Int) -> Bool {
        let length = story.body.count
        if length < shortBody { return true }
        if let last = story.paragraphs.last?.trimmingCharacters(in: .whitespaces),
           last.hasSuffix("…") || last.hasSuffix("...") || last.hasSuffix("[…]") || last.hasSuffix("[...]") {
            return true
        }
        if ReadMore.isMentioned(in: Substring(tail)) {
            return true
        }
        return typicalLength >= 1500 && Double(length) < 0.3 * Double(typicalLength)
    }

    /// The median body length of a feed's entries, the yardstick for "much shorter".
    static func typicalLength(_ stories: [StoryText]) -> Int {
        let lengths = stories.map { $0.body.count }.sorted()
        return lengths.isEmpty ? 0 : lengths[lengths.count / 2]
    }

    /// The better of the feed's text and the page's: the page's unless it is a paywall or
    /// consent page, empty, or no longer than the feed's own text.
    static func choose(feed: StoryText, page: ExtractedArticle?) -> (text: StoryText, source: TextSource) {
        guard let page, !page.isWall, !page.paragraphs.isEmpty else { return (feed, .feed) }
        let pageLength = page.paragraphs.reduce(0) { $0 + $1.count }
        guard pageLength > feed.body.count else { return (feed, .feed) }
        let headline = feed.headline.isEmpty ? (page.title ?? "") : feed.headline
        return (StoryText(headline: headline, paragraphs: page.paragraphs), .page)
    }
}

/// robots.txt rules per host, fetched once and kept for a day (one fetch per host and run for the
/// one-shot command).
actor RobotsCache {
    private var rules: [String: (robots: Result<RobotsTxt, FetchError>, fetched: Date)] = [:]
    /// Fetches under way: concurrent page fetches for one host wait for the same robots.txt.
    private var pending: [String: Task<Result<RobotsTxt, FetchError>, Never>] = [:]
    private let productToken: String
    private let lifetime: TimeInterval = 86_400

    private let shared: (any SharedRobotsStore)?

    init(userAgent: String, shared: (any SharedRobotsStore)? = nil) {
        productToken = userAgent.split(separator: "/").first.map(String.init) ?? "feedcorpus"
        self.shared = shared
    }

    /// Whether our agent may fetch `url` (file:// URLs have no robots.txt), or the error that
    /// keeps robots.txt itself from being fetched when that error says the host may not be
    /// reached at all (so the page is reported for that, not as disallowed).
    func allows(_ url: String, client: HTTPClient, now: Date) async -> Result<Bool, FetchError> {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host?.lowercased() else { return .success(true) }
        let origin = "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
        return await robots(origin: origin, client: client, now: now).map { $0.allows(url) }
    }

    /// The robots.txt of `origin` (`scheme://host[:port]`), fetched or cached.
    func robots(origin: String, client: HTTPClient, now: Date) async -> Result<RobotsTxt, FetchError> {
        if let cached = rules[origin], now.timeIntervalSince(cached.fetched) < lifetime {
            return cached.robots
        }
        if let fetching = pending[origin] { return await fetching.value }
        let token = productToken
        let (shared, lifetime) = (self.shared, self.lifetime)
        let fetching = Task {
            if let shared, let known = await shared.robots(origin: origin, maxAge: lifetime) {
                return Result<RobotsTxt, FetchError>.success(Self.parsedRules(status: known.status, body: known.body, productToken: token))
            }
            return await Self.fetch(origin: origin, client: client, productToken: token, shared: shared)
        }
        pending[origin] = fetching
        let robots = await fetching.value
        pending[origin] = nil
        rules[origin] = (robots, now)
        return robots
    }

    private static func fetch(origin: String, client: HTTPClient, productToken: String,
                              shared: (any SharedRobotsStore)?) async -> Result<RobotsTxt, FetchError> {
        do {
            let response = try await client.fetch(FetchRequest(url: origin + "/robots.txt", fromContent: true, accept: "text/plain", maxBodyBytes: 512 * 1024))
            let body = response.isSuccess ? String(decoding: response.body, as: UTF8.self) : ""
            // Only answers are shared; a network error is this process's to retry.
            await shared?.store(origin: origin, status: response.status, body: body)
            return .success(parsedRules(status: response.status, body: body, productToken: productToken))
        } catch {
            if case .addressNotAllowed = error.kind { return .failure(error) }
            return .success(.disallowAll)  // RFC 9309: an unreachable robots.txt means "disallow".
        }
    }

    /// The rules an answer to a robots.txt request gives: its body when it succeeded, everything
    /// allowed on 4xx, nothing on 5xx (RFC 9309).
    private static func parsedRules(status: Int, body: String, productToken: String) -> RobotsTxt {
        if (200..<300).contains(status) { return RobotsTxt(parsing: body, productToken: productToken) }
        return (400..<500).contains(status) ? .allowAll : .disallowAll
    }
}

/// Where the robots.txt answers one process fetched are shared with every other process polling
/// the same state (cluster mode's database), so a host's robots.txt is fetched once for all.
public protocol SharedRobotsStore: Sendable {
    /// The answer (HTTP status, body) another process got for `origin`'s robots.txt no longer
    /// than `maxAge` seconds ago.
    func robots(origin: String, maxAge: Double) async -> (status: Int, body: String)?
    /// Shares an answer.
    func store(origin: String, status: Int, body: String) async
}

/// Fetches article pages through the shared client (same politeness and limits as feeds) and
/// extracts their text.
struct ArticlePageFetcher: Sendable {
    let client: HTTPClient
    let robots: RobotsCache
    /// Bytes of pages held at once; each page claims `maxPageBytes` from when its transfer starts
    /// until its text is extracted.
    let budget: ByteBudget
    let settings: FetchSettings

    enum Failure: Error, CustomStringConvertible {
        case robots(String)
        case http(String)
        case notHTML(String, String)

        var description: String {
            switch self {
            case .robots(let url): "robots.txt disallows \(url); the feed's text is kept"
            case .http(let message): message
            case .notHTML(let url, let type): "\(url) is \(type), not an HTML page; the feed's text is kept"
            }
        }
    }

    /// An extracted page and the size of its body.
    struct Page: Sendable {
        var article: ExtractedArticle
        var bytes: Int
    }

    /// Fetches and extracts the page at `url`, linked from the feed at `feedURL`. A local feed's
    /// entries may link to local pages only with `fetch.local_pages`, and only to files in the
    /// feed's own folder (links resolved); a remote feed's links are http(s) only.
    func page(_ url: String, feedURL: String, now: Date) async -> Result<Page, Failure> {
        let isFile = url.lowercased().hasPrefix("file:")
        if isFile {
            if let refusal = Self.localPageRefusal(url, feedURL: feedURL, allowed: settings.localPages) { return .failure(.http(refusal)) }
        } else if settings.robotsTxt {
            switch await robots.allows(url, client: client, now: now) {
            case .success(true): break
            case .success(false): return .failure(.robots(url))
            case .failure(let error):  // The host may not be reached at all: say that, for the page.
                return .failure(.http("article page: \(FetchError(kind: error.kind, url: url, detail: error.detail).description)"))
            }
        }
        let ticket = budget.ticket(bytes: settings.maxPageBytes)
        defer { ticket.release() }
        let response: FetchResponse
        do {
            response = try await client.fetch(FetchRequest(url: url, allowFileScheme: isFile, fromContent: !isFile, accept: FetchRequest.pageAccept,
                                                        maxBodyBytes: settings.maxPageBytes, ticket: ticket))
        } catch {
            return .failure(.http("article page \(url): \(error.description)"))
        }
        guard response.isSuccess else {
            return .failure(.http("article page \(url): HTTP \(response.status)"))
        }
        let contentType = response.headers["content-type"]?.lowercased() ?? ""
        if !contentType.isEmpty, !contentType.contains("html"), !contentType.hasPrefix("text/plain") {
            return .failure(.notHTML(url, contentType.split(separator: ";").first.map(String.init) ?? contentType))
        }
        let (body, effectiveURL, charset) = (response.body, response.effectiveURL, ContentType.charset(response.headers["content-type"]))
        guard let article = await OffPool.run(deadline: settings.extractTimeout, {
            ArticleExtractor.extract(html: body, url: effectiveURL, httpCharset: charset)
        }) else {
            return .failure(.http("article page \(url): extracting its text took longer than \(settings.extractTimeout) s (fetch.extract_timeout); the feed's text is kept"))
        }
        return .success(Page(article: article, bytes: body.count))
    }

    /// Why a local page may not be read for a local feed, or nil when it may.
    static func localPageRefusal(_ url: String, feedURL: String, allowed: Bool) -> String? {
        guard feedURL.lowercased().hasPrefix("file:") else {
            return "\(url): only http and https links are followed for a remote feed"
        }
        guard allowed else {
            return "\(url): a local feed's links to local files are not followed unless fetch.local_pages is true"
        }
        guard let page = URL(string: url), page.isFileURL, let feed = URL(string: feedURL), feed.isFileURL else {
            return "\(url): not a valid file URL"
        }
        // Symbolic links resolved on both sides, so no link in the folder can lead out of it.
        let folder = feed.deletingLastPathComponent().resolvingSymlinksInPath().standardizedFileURL.path
        let target = page.resolvingSymlinksInPath().standardizedFileURL.path
        guard target.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/") else {
            return "\(url): a local feed may link only to files in its own folder (\(folder))"
        }
        return nil
    }
}
