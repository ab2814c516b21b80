import ArgumentParser
import DatesAndCharsets
import FeedConfig
import FeedModel
import FeedParser
import Fetcher
import Foundation
import Pipeline
import XMLSupport

/// `feedcorpus add URL`: find the feed of a site and print its config entry.
struct AddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Find the feed at a URL (a feed, or a site's page) and print its YAML entry for `feeds:`.",
        discussion: """
            Given a feed, it is read; given a web page, its <link rel="alternate"> feeds (RSS, Atom, \
            JSON Feed) are tried, then the usual places (/feed, /rss, /rss.xml, /atom.xml, /feed.xml, \
            /index.xml, /feed.json). Each feed found is shown (title, format, entries) and printed as an \
            entry to add under `feeds:`; the config is never rewritten. Exit 0 when a feed was found, \
            1 when none was.
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: "A feed URL, or a site's page.")
    var url: String

    @Option(help: "The name to give the feed (default: the feed's title).")
    var name: String?

    /// The usual places of a site's feed, tried when the page names none.
    static let usualPaths = ["/feed", "/rss", "/rss.xml", "/atom.xml", "/feed.xml", "/index.xml", "/feed.json", "/feeds/posts/default"]
    static let feedTypes = ["application/rss+xml", "application/atom+xml", "application/feed+json", "application/json", "application/rdf+xml", "application/xml", "text/xml"]

    struct Found {
        var url: String
        var feed: ParsedFeed
    }

    func run() async throws {
        let configuration = (try? ConfigLoader.load(path: options.config))
        var settings = IngestPass.clientSettings(configuration?.fetch ?? FetchSettings())
        settings.hostDelay = 0
        let client = HTTPClient(settings: settings)
        defer { client.shutdown() }

        var tried: [String] = []
        func read(_ candidate: String) async -> (Found?, FetchResponse?) {
            tried.append(candidate)
            guard let response = try? await client.fetch(FetchRequest(url: candidate)), response.isSuccess else { return (nil, nil) }
            if let feed = try? FeedParser.parse(response.body, url: response.effectiveURL, contentType: response.headers["content-type"]),
               feed.format != .unknown {
                return (Found(url: response.effectiveURL, feed: feed), response)
            }
            return (nil, response)
        }

        var found: [Found] = []
        let (direct, page) = await read(url)
        if let direct {
            found = [direct]
        } else if let page {
            let base = page.effectiveURL
            var candidates = Self.alternateLinks(in: page.body, base: base, charset: ContentType.charset(page.headers["content-type"]))
            if candidates.isEmpty, let root = URL(string: base).flatMap({ URL(string: "/", relativeTo: $0)?.absoluteURL }) {
                candidates = Self.usualPaths.compactMap { URL(string: String($0.dropFirst()), relativeTo: root)?.absoluteString }
            }
            for candidate in candidates where !found.contains(where: { $0.url == candidate }) {
                if let feed = await read(candidate).0, !found.contains(where: { $0.url == feed.url }) { found.append(feed) }
            }
        }
        guard !found.isEmpty else {
            FileHandle.standardError.write(Data("feedcorpus: no feed found at \(url); tried \(tried.joined(separator: ", "))\n".utf8))
            throw ExitCode(ExitStatus.someFeedsFailed)
        }
        let known = Set(configuration?.feeds.map(\.url) ?? [])
        for item in found {
            let title = item.feed.title.map(LogText.escaped) ?? "(untitled)"
            let already = known.contains(item.url) ? " (already in the config)" : ""
            FileHandle.standardError.write(Data("found: \(title), \(item.feed.format.rawValue), \(item.feed.entries.count) entries: \(item.url)\(already)\n".utf8))
        }
        print("  # add under `feeds:`")
        for (index, item) in found.enumerated() {
            let feedName = index == 0 ? (name ?? item.feed.title) : item.feed.title
            print("  - url: \(ImportOPMLCommand.yamlString(item.url))")
            if let feedName, !feedName.isEmpty { print("    name: \(ImportOPMLCommand.yamlString(feedName))") }
        }
    }

    /// The feed links a page announces, resolved, in page order.
    static func alternateLinks(in html: [UInt8], base: String, charset: String?) -> [String] {
        guard let root = HTMLDOM.parse(html, httpCharset: charset, url: base) else { return [] }
        var links: [String] = []
        root.descendants { element in
            guard element.name == "link",
                  let rel = element.attribute("rel")?.lowercased().split(separator: " "), rel.contains("alternate"),
                  let type = element.attribute("type")?.lowercased().split(separator: ";").first.map({ $0.trimmingCharacters(in: .whitespaces) }),
                  feedTypes.contains(type),
                  let href = element.attribute("href"), let resolved = URL(string: href, relativeTo: URL(string: base))?.absoluteString
            else { return }
            if !links.contains(resolved) { links.append(resolved) }
        }
        return links
    }
}
