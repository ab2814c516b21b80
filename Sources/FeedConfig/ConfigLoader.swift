import FeedModel
import Foundation
import Yams

/// A configuration problem: which file, which key, which line, and what was expected.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var key: String?
    public var message: String

    public var description: String {
        var out = file
        if let line { out += ":\(line)" }
        out += ": "
        if let key { out += "\(key): " }
        return out + message
    }
}

/// Reads the YAML configuration file.
///
/// Unknown keys are errors (a typo must not silently fall back to a default), every value is
/// checked for its type and range, and relative paths resolve against the file's folder.
public enum ConfigLoader {
    public static func load(path: String) throws(ConfigError) -> Configuration {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let text: String
        do {
            text = try String(contentsOfFile: absolute, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, line: nil, key: nil,
                              message: "cannot read the config file (\(Self.reason(error))); pass an existing YAML file with --config")
        }
        return try parse(yaml: text, path: absolute)
    }

    /// Parses configuration text as if it had been read from `path`.
    public static func parse(yaml: String, path: String) throws(ConfigError) -> Configuration {
        let folder = (path as NSString).deletingLastPathComponent
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw ConfigError(file: path, line: nil, key: nil, message: "the file is empty; it needs at least `corpus:` and `feeds:`")
            }
            root = node
        } catch let error as ConfigError {
            throw error
        } catch let YamlError.duplicatedKeysInMapping(duplicates, _) {
            // Name the key and the line where it is repeated (Yams's message quotes the whole file).
            let key = duplicates.first ?? ""
            throw ConfigError(file: path, line: Self.lineOfRepeat(of: key, in: yaml), key: key,
                              message: "the key appears twice in one mapping; merge the two (when appending `import-opml` output, add its entries under the existing `feeds:`)")
        } catch let error as YamlError {
            throw ConfigError(file: path, line: Self.line(of: error), key: nil, message: "not valid YAML: \(Self.problem(of: error))")
        } catch {
            throw ConfigError(file: path, line: nil, key: nil, message: "not valid YAML: \(error)")
        }
        let reader = NodeReader(file: path)
        let top = try reader.mapping(root, key: nil, allowed: ["corpus", "layout", "state", "fetch", "dedupe", "schedule", "feeds", "opml",
                                                                      "on_new_stories", "on_new_stories_timeout", "metrics", "backfill"])

        let corpus = try top["corpus"].map { node throws(ConfigError) in try reader.string(node, key: "corpus") } ?? "corpus"
        let layoutText = try top["layout"].map { node throws(ConfigError) in try reader.string(node, key: "layout") } ?? "daily"
        guard let layout = LayoutSetting(rawValue: layoutText) else {
            throw reader.error(top["layout"], key: "layout", "expected one of daily, flat; got '\(layoutText)'")
        }
        let state = try top["state"].map { node throws(ConfigError) in try reader.string(node, key: "state") } ?? "feedcorpus.sqlite"
        // A postgres:// URL selects cluster mode: the state is shared by several machines.
        var clusterState: String?
        if let scheme = state.split(separator: ":", maxSplits: 1).first?.lowercased(), state.contains("://"),
           scheme == "postgres" || scheme == "postgresql" {
            clusterState = state
        }

        var fetch = FetchSettings()
        if let node = top["fetch"] {
            let settings = try reader.mapping(node, key: "fetch", allowed: [
                "user_agent", "timeout", "connect_timeout", "max_body_bytes", "max_connections", "max_connections_per_host",
                "host_delay", "low_speed_limit", "low_speed_time", "proxy", "ca_bundle", "allow_private_networks",
                "backoff_base", "max_backoff", "robots_txt", "max_page_bytes", "allowed_addresses", "proxy_article_pages", "local_pages", "extract_timeout",
                "max_entries_per_feed", "max_pages_per_poll", "max_page_bytes_in_flight",
            ])
            if let value = settings["user_agent"] {
                fetch.userAgent = try reader.string(value, key: "fetch.user_agent")
                guard !fetch.userAgent.isEmpty, !fetch.userAgent.contains(where: \.isNewline) else {
                    throw reader.error(value, key: "fetch.user_agent", "expected a non-empty single line")
                }
            }
            if let value = settings["timeout"] { fetch.timeout = try reader.number(value, key: "fetch.timeout", range: 1...3600) }
            if let value = settings["connect_timeout"] { fetch.connectTimeout = try reader.number(value, key: "fetch.connect_timeout", range: 1...600) }
            if let value = settings["max_body_bytes"] { fetch.maxBodyBytes = try reader.integer(value, key: "fetch.max_body_bytes", range: 1024...(1 << 31)) }
            if let value = settings["max_connections"] { fetch.maxConnections = try reader.integer(value, key: "fetch.max_connections", range: 1...1024) }
            if let value = settings["max_connections_per_host"] { fetch.maxConnectionsPerHost = try reader.integer(value, key: "fetch.max_connections_per_host", range: 1...64) }
            if let value = settings["host_delay"] { fetch.hostDelay = try reader.number(value, key: "fetch.host_delay", range: 0...3600) }
            if let value = settings["low_speed_limit"] { fetch.lowSpeedLimit = try reader.integer(value, key: "fetch.low_speed_limit", range: 1...(1 << 30)) }
            if let value = settings["low_speed_time"] { fetch.lowSpeedTime = try reader.integer(value, key: "fetch.low_speed_time", range: 1...3600) }
            if let value = settings["proxy"] { fetch.proxy = try reader.string(value, key: "fetch.proxy") }
            if let value = settings["ca_bundle"] {
                let bundle = resolvePath(try reader.string(value, key: "fetch.ca_bundle"), folder: folder)
                guard FileManager.default.isReadableFile(atPath: bundle) else {
                    throw reader.error(value, key: "fetch.ca_bundle", "cannot read \(bundle); give a PEM file of CA certificates")
                }
                fetch.caBundle = bundle
            }
            if let value = settings["allow_private_networks"] { fetch.allowPrivateNetworks = try reader.bool(value, key: "fetch.allow_private_networks") }
            if let value = settings["allowed_addresses"] {
                guard case let .sequence(list) = value else {
                    throw reader.error(value, key: "fetch.allowed_addresses", "expected a list of addresses or CIDR ranges, e.g. [10.0.0.5, 192.168.0.0/16]")
                }
                fetch.allowedAddresses = try list.map { item throws(ConfigError) in
                    let text = try reader.string(item, key: "fetch.allowed_addresses")
                    guard AddressRange(text) != nil else {
                        throw reader.error(item, key: "fetch.allowed_addresses", "'\(text)' is not an IP address or CIDR range (write 10.0.0.5 or 10.0.0.0/8; host names are not accepted)")
                    }
                    return text
                }
            }
            if let value = settings["proxy_article_pages"] { fetch.proxyArticlePages = try reader.bool(value, key: "fetch.proxy_article_pages") }
            if let value = settings["extract_timeout"] { fetch.extractTimeout = try reader.number(value, key: "fetch.extract_timeout", range: 0.001...600) }
            if let value = settings["max_entries_per_feed"] { fetch.maxEntriesPerFeed = try reader.integer(value, key: "fetch.max_entries_per_feed", range: 1...1_000_000) }
            if let value = settings["max_pages_per_poll"] { fetch.maxPagesPerPoll = try reader.integer(value, key: "fetch.max_pages_per_poll", range: 0...100_000) }
            if let value = settings["max_page_bytes_in_flight"] {
                fetch.maxPageBytesInFlight = try reader.integer(value, key: "fetch.max_page_bytes_in_flight", range: (1 << 20)...(1 << 34))
            }
            if let value = settings["local_pages"] { fetch.localPages = try reader.bool(value, key: "fetch.local_pages") }
            if let value = settings["backoff_base"] { fetch.backoffBase = try reader.number(value, key: "fetch.backoff_base", range: 1...86_400) }
            if let value = settings["max_backoff"] { fetch.maxBackoff = try reader.number(value, key: "fetch.max_backoff", range: 60...(7 * 86_400)) }
            if let value = settings["robots_txt"] { fetch.robotsTxt = try reader.bool(value, key: "fetch.robots_txt") }
            if let value = settings["max_page_bytes"] { fetch.maxPageBytes = try reader.integer(value, key: "fetch.max_page_bytes", range: 1024...(1 << 30)) }
        }

        var dedupe = DedupeSettings()
        if let node = top["dedupe"] {
            let settings = try reader.mapping(node, key: "dedupe", allowed: [
                "tracking_parameters", "near_duplicate_distance", "near_duplicate_jaccard", "near_duplicate_containment",
                "near_duplicates", "event_window_hours", "event_threshold",
            ])
            if let value = settings["tracking_parameters"] {
                guard case let .sequence(list) = value else {
                    throw reader.error(value, key: "dedupe.tracking_parameters", "expected a list of parameter names (a trailing * matches a prefix)")
                }
                dedupe.trackingParameters = try list.map { item throws(ConfigError) in try reader.string(item, key: "dedupe.tracking_parameters") }
            }
            if let value = settings["near_duplicate_distance"] {
                dedupe.nearDuplicateDistance = try reader.integer(value, key: "dedupe.near_duplicate_distance", range: 0...12)
            }
            if let value = settings["near_duplicate_jaccard"] {
                dedupe.nearDuplicateJaccard = try reader.number(value, key: "dedupe.near_duplicate_jaccard", range: 0.3...1)
            }
            if let value = settings["near_duplicate_containment"] {
                dedupe.nearDuplicateContainment = try reader.number(value, key: "dedupe.near_duplicate_containment", range: 0.5...1)
            }
            if let value = settings["near_duplicates"] {
                let text = try reader.string(value, key: "dedupe.near_duplicates")
                guard let policy = NearDuplicatePolicy(rawValue: text) else {
                    throw reader.error(value, key: "dedupe.near_duplicates", "expected keep_first or keep_longer; got '\(text)'")
                }
                dedupe.nearDuplicates = policy
            }
            if let value = settings["event_window_hours"] { dedupe.eventWindowHours = try reader.number(value, key: "dedupe.event_window_hours", range: 1...720) }
            if let value = settings["event_threshold"] { dedupe.eventThreshold = try reader.number(value, key: "dedupe.event_threshold", range: 0.01...1) }
        }

        var schedule = ScheduleSettings()
        if let node = top["schedule"] {
            let settings = try reader.mapping(node, key: "schedule", allowed: ["min_interval", "max_interval", "default_interval"])
            if let value = settings["min_interval"] { schedule.minInterval = try reader.number(value, key: "schedule.min_interval", range: 10...604_800) }
            if let value = settings["max_interval"] { schedule.maxInterval = try reader.number(value, key: "schedule.max_interval", range: 10...2_592_000) }
            if let value = settings["default_interval"] { schedule.defaultInterval = try reader.number(value, key: "schedule.default_interval", range: 10...2_592_000) }
            guard schedule.minInterval <= schedule.maxInterval else {
                throw reader.error(settings["max_interval"] ?? node, key: "schedule.max_interval", "must not be below schedule.min_interval (\(schedule.minInterval))")
            }
        }

        var backfill = BackfillSettings()
        var backfillPerPass = BackfillPassLimits()
        if let node = top["backfill"] {
            let read = try backfillSettings(node, key: "backfill", base: backfill, passLimits: backfillPerPass, reader: reader)
            backfill = read.0
            backfillPerPass = read.1 ?? backfillPerPass
        }

        var feeds: [FeedSource] = []
        var seenURLs: [String: String] = [:]
        var seenNames: [String: String] = [:]
        if top["feeds"] == nil && top["opml"] == nil {
            throw ConfigError(file: path, line: root.mark?.line, key: "feeds", message: "missing; list the feeds to poll, e.g. `feeds: [{url: https://example.org/rss.xml}]`, or name an OPML file with `opml:`")
        }
        if let feedsNode = top["feeds"] {
            guard case let .sequence(sequence) = feedsNode else {
                throw reader.error(feedsNode, key: "feeds", "expected a list of feeds (each `- url: ...`)")
            }
            for (index, item) in sequence.enumerated() {
                let key = "feeds[\(index)]"
                let feed: [String: Node]
                if case .scalar = item {
                    feed = ["url": item]  // `- https://example.org/rss` is accepted as a shorthand.
                } else {
                    feed = try reader.mapping(item, key: key, allowed: ["url", "name", "category", "min_interval", "max_interval", "fulltext", "backfill"])
                }
                guard let urlNode = feed["url"] else { throw reader.error(item, key: key, "missing `url:`") }
                let rawURL = try reader.string(urlNode, key: "\(key).url")
                let url = try resolveFeedURL(rawURL, folder: folder, reader: reader, node: urlNode, key: "\(key).url")
                if let earlier = seenURLs[url] {
                    throw reader.error(urlNode, key: "\(key).url", "the same feed as \(earlier); list each feed once")
                }
                seenURLs[url] = key
                let name = try feed["name"].map { node throws(ConfigError) in try reader.string(node, key: "\(key).name") } ?? defaultName(for: url)
                if let earlier = seenNames[name] {
                    throw reader.error(feed["name"] ?? urlNode, key: "\(key).name", "'\(name)' is already the name of \(earlier); give each feed its own `name:`")
                }
                seenNames[name] = key
                let category = try feed["category"].map { node throws(ConfigError) in try reader.string(node, key: "\(key).category") }
                let minInterval = try feed["min_interval"].map { node throws(ConfigError) in try reader.number(node, key: "\(key).min_interval", range: 10...2_592_000) }
                let maxInterval = try feed["max_interval"].map { node throws(ConfigError) in try reader.number(node, key: "\(key).max_interval", range: 10...2_592_000) }
                var fullText = FullTextPolicy.auto
                if let node = feed["fulltext"] {
                    let text = try reader.string(node, key: "\(key).fulltext")
                    guard let policy = FullTextPolicy(rawValue: text) else {
                        throw reader.error(node, key: "\(key).fulltext", "expected one of auto, always, never; got '\(text)'")
                    }
                    fullText = policy
                }
                let feedBackfill = try feed["backfill"].map { node throws(ConfigError) in
                    try backfillSettings(node, key: "\(key).backfill", base: backfill, passLimits: nil, reader: reader).0
                }
                feeds.append(FeedSource(url: url, name: name, category: category, minInterval: minInterval, maxInterval: maxInterval,
                                        fullText: fullText, backfill: feedBackfill))
            }
        }
        if let opmlNode = top["opml"] {
            let opmlPath = resolvePath(try reader.string(opmlNode, key: "opml"), folder: folder)
            guard let data = FileManager.default.contents(atPath: opmlPath) else {
                throw reader.error(opmlNode, key: "opml", "cannot read \(opmlPath); check the path (relative paths start at the config's folder)")
            }
            let subscriptions: [OPMLSubscription]
            do {
                subscriptions = try OPML.parse([UInt8](data))
            } catch {
                throw reader.error(opmlNode, key: "opml", "\(opmlPath): \(error.description)")
            }
            for (index, subscription) in subscriptions.enumerated() {
                let where_ = "\(opmlPath) outline \(index + 1)"
                let url = try resolveFeedURL(subscription.xmlURL, folder: (opmlPath as NSString).deletingLastPathComponent,
                                             reader: reader, node: opmlNode, key: "opml (\(where_))", webOnly: true)
                guard seenURLs[url] == nil else { continue }  // Listed in both: the `feeds:` entry wins.
                var name = subscription.title ?? defaultName(for: url)
                if seenNames[name] != nil { name = "\(name) (\(defaultName(for: url)))" }
                if seenNames[name] != nil { continue }
                seenURLs[url] = where_
                seenNames[name] = where_
                feeds.append(FeedSource(url: url, name: name, category: subscription.category))
            }
        }
        var configuration = Configuration(
            path: path, corpusDirectory: resolvePath(corpus, folder: folder), layout: layout,
            statePath: clusterState == nil ? resolvePath(state, folder: folder) : "", fetch: fetch, dedupe: dedupe, schedule: schedule, feeds: feeds)
        configuration.clusterState = clusterState
        configuration.backfill = backfill
        configuration.backfillPerPass = backfillPerPass
        if let node = top["on_new_stories"] {
            let command = try reader.string(node, key: "on_new_stories")
            guard !command.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw reader.error(node, key: "on_new_stories", "empty; give a shell command or remove the key")
            }
            configuration.onNewStories = command
        }
        if let node = top["on_new_stories_timeout"] {
            configuration.onNewStoriesTimeout = try reader.number(node, key: "on_new_stories_timeout", range: 1...3600)
        }
        if let node = top["metrics"] {
            let settings = try reader.mapping(node, key: "metrics", allowed: ["listen", "textfile"])
            if let value = settings["listen"] {
                let text = try reader.string(value, key: "metrics.listen")
                guard let (host, port) = Self.listenAddress(text) else {
                    throw reader.error(value, key: "metrics.listen",
                                       "expected PORT, HOST:PORT or [IPv6]:PORT (e.g. 9464 or 127.0.0.1:9464); got '\(text)'")
                }
                configuration.metrics.listenHost = host
                configuration.metrics.listenPort = port
            }
            if let value = settings["textfile"] {
                configuration.metrics.textfile = resolvePath(try reader.string(value, key: "metrics.textfile"), folder: folder)
            }
        }
        return configuration
    }

    /// `PORT` (on 127.0.0.1: loopback unless an address is named), `HOST:PORT`, `[IPv6]:PORT`.
    /// Port 0 asks the system for a free port (the service logs the one it got).
    /// Reads a `backfill:` value: true/false (enabled or not, the rest as `base`) or a mapping;
    /// the per-pass caps only globally (`passLimits` non-nil).
    static func backfillSettings(_ node: Node, key: String, base: BackfillSettings, passLimits: BackfillPassLimits?,
                                 reader: NodeReader) throws(ConfigError) -> (BackfillSettings, BackfillPassLimits?) {
        var settings = base
        if case .scalar = node {
            settings.enabled = try reader.bool(node, key: key)
            return (settings, passLimits)
        }
        var allowed = ["enabled", "seed", "max_pages", "max_urls", "window_hours"]
        if passLimits != nil { allowed += ["max_pages_per_pass", "max_urls_per_pass"] }
        let values = try reader.mapping(node, key: key, allowed: allowed)
        if let value = values["enabled"] { settings.enabled = try reader.bool(value, key: "\(key).enabled") }
        if let value = values["seed"] { settings.seed = try reader.bool(value, key: "\(key).seed") }
        if let value = values["max_pages"] { settings.maxPages = try reader.integer(value, key: "\(key).max_pages", range: 0...10_000) }
        if let value = values["max_urls"] { settings.maxURLs = try reader.integer(value, key: "\(key).max_urls", range: 0...100_000) }
        if let value = values["window_hours"] {
            guard case .scalar = value, let hours = value.float, (1...8760).contains(hours) else {
                throw reader.error(value, key: "\(key).window_hours", "expected a number of hours between 1 and 8760, got '\(value.string ?? "?")'")
            }
            settings.windowHours = hours
        }
        guard var limits = passLimits else { return (settings, nil) }
        if let value = values["max_pages_per_pass"] {
            limits.maxPages = try reader.integer(value, key: "\(key).max_pages_per_pass", range: 0...100_000)
        }
        if let value = values["max_urls_per_pass"] {
            limits.maxURLs = try reader.integer(value, key: "\(key).max_urls_per_pass", range: 0...1_000_000)
        }
        return (settings, limits)
    }

    static func listenAddress(_ text: String) -> (String, Int)? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let host: String
        let portText: Substring
        if let port = Int(trimmed) {
            return (0...65_535).contains(port) ? ("127.0.0.1", port) : nil
        } else if trimmed.hasPrefix("["), let close = trimmed.firstIndex(of: "]") {
            host = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            let rest = trimmed[trimmed.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else if let colon = trimmed.lastIndex(of: ":"), !trimmed[..<colon].contains(":") {
            host = String(trimmed[..<colon])
            portText = trimmed[trimmed.index(after: colon)...]
        } else {
            return nil
        }
        guard !host.isEmpty, let port = Int(portText), (0...65_535).contains(port) else { return nil }
        return (host, port)
    }

    static func resolvePath(_ path: String, folder: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded).standardizedFileURL.path }
        return URL(fileURLWithPath: folder).appendingPathComponent(expanded).standardizedFileURL.path
    }

    /// `http(s)://` and `file://` URLs are kept; a bare path is a local file relative to the config.
    static func resolveFeedURL(_ raw: String, folder: String, reader: NodeReader, node: Node, key: String,
                               webOnly: Bool = false) throws(ConfigError) -> String {
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        if webOnly {
            guard isWebFeedURL(trimmed) else {
                throw reader.error(node, key: key, "'\(trimmed)' is not an http(s) URL; an OPML file may add only http and https feeds (list local feeds in the config itself)")
            }
            return trimmed
        }
        if let schemeEnd = trimmed.range(of: "://") {
            let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
            guard ["http", "https", "file"].contains(scheme) else {
                throw reader.error(node, key: key, "unsupported scheme '\(scheme)'; use http://, https://, file:// or a local path")
            }
            guard URL(string: trimmed) != nil else { throw reader.error(node, key: key, "'\(trimmed)' is not a valid URL") }
            return trimmed
        }
        guard !trimmed.isEmpty else { throw reader.error(node, key: key, "empty; expected a feed URL") }
        return URL(fileURLWithPath: resolvePath(trimmed, folder: folder)).absoluteString
    }

    /// Whether `url` is an http(s) URL with a host: all an OPML file may add.
    public static func isWebFeedURL(_ url: String) -> Bool {
        let scheme = url.range(of: "://").map { url[..<$0.lowerBound].lowercased() }
        return (scheme == "http" || scheme == "https") && URL(string: url)?.host?.isEmpty == false
    }

    static func defaultName(for url: String) -> String {
        guard let parsed = URL(string: url) else { return url }
        if parsed.isFileURL { return parsed.deletingPathExtension().lastPathComponent }
        let host = (parsed.host ?? url).lowercased()
        let path = parsed.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        return path.isEmpty ? host : host + "/" + path
    }

    /// The 1-based line of the second `key:` at the same indentation as the first, if any.
    static func lineOfRepeat(of key: String, in yaml: String) -> Int? {
        var seen: [Int: Int] = [:]  // indentation -> occurrences
        for (index, line) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let indentation = line.prefix(while: { $0 == " " }).count
            var rest = line.dropFirst(indentation)
            if rest.hasPrefix("- ") { rest = rest.dropFirst(2) }
            guard rest.hasPrefix(key + ":") || rest.hasPrefix("\"\(key)\":") || rest.hasPrefix("'\(key)':") else { continue }
            seen[indentation, default: 0] += 1
            if seen[indentation] == 2 { return index + 1 }
        }
        return nil
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _):
            return mark.line
        default:
            return nil
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case let .scanner(context, problem, _, _), let .parser(context, problem, _, _), let .composer(context, problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        default:
            return "\(error)"
        }
    }

    private static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return nsError.localizedDescription
    }
}

/// Typed access to YAML nodes that turns every mismatch into a `ConfigError` with the line.
struct NodeReader {
    let file: String

    func error(_ node: Node?, key: String?, _ message: String) -> ConfigError {
        ConfigError(file: file, line: node?.mark?.line, key: key, message: message)
    }

    func mapping(_ node: Node, key: String?, allowed: [String]) throws(ConfigError) -> [String: Node] {
        guard case let .mapping(mapping) = node else {
            throw error(node, key: key, "expected a mapping of keys (\(allowed.joined(separator: ", ")))")
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            let name = keyNode.string ?? ""
            let qualified = key.map { "\($0).\(name)" } ?? name
            guard allowed.contains(name) else {
                throw error(keyNode, key: qualified, "unknown key; expected one of \(allowed.joined(separator: ", "))")
            }
            result[name] = value
        }
        return result
    }

    func string(_ node: Node, key: String) throws(ConfigError) -> String {
        guard case let .scalar(scalar) = node else { throw error(node, key: key, "expected a single value, not a list or mapping") }
        return scalar.string
    }

    func integer(_ node: Node, key: String, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard case .scalar = node, let value = node.int else {
            throw error(node, key: key, "expected a whole number between \(range.lowerBound) and \(range.upperBound), got '\(node.string ?? "?")'")
        }
        guard range.contains(value) else {
            throw error(node, key: key, "\(value) is out of range; expected \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func bool(_ node: Node, key: String) throws(ConfigError) -> Bool {
        guard case .scalar = node, let value = node.bool else {
            throw error(node, key: key, "expected true or false, got '\(node.string ?? "?")'")
        }
        return value
    }

    func number(_ node: Node, key: String, range: ClosedRange<Double>) throws(ConfigError) -> Double {
        guard case .scalar = node, let value = node.float else {
            throw error(node, key: key, "expected a number of seconds between \(range.lowerBound) and \(range.upperBound), got '\(node.string ?? "?")'")
        }
        guard range.contains(value) else {
            throw error(node, key: key, "\(value) is out of range; expected \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}
