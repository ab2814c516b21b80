import Foundation

/// The rules of a robots.txt file (RFC 9309) for one user agent.
///
/// The group whose `User-agent` is a case-insensitive prefix of our product token applies (the
/// longest such name wins), else the `*` group. Within it the longest matching `Allow`/`Disallow`
/// path wins, `Allow` on a tie; `*` matches any run of characters and a final `$` anchors the end.
public struct RobotsTxt: Sendable, Equatable {
    struct Rule: Sendable, Equatable {
        var allow: Bool
        var pattern: String
    }

    let rules: [Rule]
    /// The `Sitemap:` lines (absolute URLs, in file order); they belong to no group.
    public private(set) var sitemaps: [String] = []

    /// Everything allowed: no robots.txt (404 and other 4xx answers), or no group for us.
    public static let allowAll = RobotsTxt(rules: [])
    /// Nothing allowed: robots.txt unreachable (5xx, network errors), as RFC 9309 asks.
    public static let disallowAll = RobotsTxt(rules: [Rule(allow: false, pattern: "/")])

    init(rules: [Rule]) { self.rules = rules }

    /// Parses a robots.txt body for the agent `productToken` (for example "feedcorpus").
    public init(parsing text: String, productToken: String) {
        let agent = productToken.lowercased()
        var groups: [(agents: [String], rules: [Rule])] = []
        var collectingAgents = false
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard let colon = line.firstIndex(of: ":") else { continue }
            let field = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch field {
            case "user-agent":
                if !collectingAgents { groups.append(([], [])) }
                collectingAgents = true
                groups[groups.count - 1].agents.append(value.lowercased())
            case "allow", "disallow":
                collectingAgents = false
                guard !groups.isEmpty else { continue }
                // An empty Disallow allows everything: no rule.
                if value.isEmpty { continue }
                groups[groups.count - 1].rules.append(Rule(allow: field == "allow", pattern: value))
            case "sitemap":
                if !value.isEmpty, !sitemaps.contains(value) { sitemaps.append(value) }
            default:
                continue  // Crawl-delay and unknown lines do not end a group's agents.
            }
        }
        var best: (length: Int, rules: [Rule])?
        var wildcard: [Rule]?
        for group in groups {
            for name in group.agents {
                if name == "*" {
                    wildcard = (wildcard ?? []) + group.rules
                } else if !name.isEmpty, agent.hasPrefix(name) {
                    if best == nil || name.count > best?.length ?? 0 {
                        best = (name.count, group.rules)
                    } else if name.count == best?.length {
                        best?.rules += group.rules
                    }
                }
            }
        }
        rules = best?.rules ?? wildcard ?? []
    }

    /// Whether the path (with its query) of `url` may be fetched.
    public func allows(_ url: String) -> Bool {
        guard !rules.isEmpty else { return true }
        var path = "/"
        if let components = URLComponents(string: url) {
            path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
            if let query = components.percentEncodedQuery { path += "?" + query }
        }
        var decision: (length: Int, allow: Bool)?
        for rule in rules where Self.matches(rule.pattern, path) {
            let length = rule.pattern.count
            if decision == nil || length > decision?.length ?? 0 || (length == decision?.length && rule.allow) {
                decision = (length, rule.allow)
            }
        }
        return decision?.allow ?? true
    }

    /// `*` matches any run of characters; a trailing `$` requires the path to end there.
    static func matches(_ pattern: String, _ path: String) -> Bool {
        var pattern = Substring(pattern)
        let anchored = pattern.hasSuffix("$")
        if anchored { pattern = pattern.dropLast() }
        let pieces = pattern.split(separator: "*", omittingEmptySubsequences: false)
        var rest = Substring(path)
        for (index, piece) in pieces.enumerated() {
            if index == 0 {
                guard rest.hasPrefix(piece) else { return false }
                rest = rest.dropFirst(piece.count)
            } else if index == pieces.count - 1 && anchored {
                return rest.hasSuffix(piece)
            } else {
                guard let range = rest.range(of: piece) else { return false }
                rest = rest[range.upperBound...]
            }
        }
        return !anchored || rest.isEmpty
    }
}
