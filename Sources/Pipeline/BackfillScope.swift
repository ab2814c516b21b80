import Foundation

/// Which pages of a site count as a feed's: the origin of most of its entry links, and the
/// section (leading path segments) they all share. A site's sitemap covers every section;
/// a backfill takes only the feed's.
struct BackfillScope: Sendable, Equatable {
    /// `scheme://host[:port]`, lower-case.
    var origin: String
    /// "/" or "/section/…/" (always ending in "/").
    var pathPrefix: String

    /// The scope of these entry links; nil when none is an http(s) URL. Path segments are shared
    /// up to the first that differs or that is a number (dates: /2024/11/…).
    static func of(links: [String]) -> BackfillScope? {
        var byOrigin: [String: [[Substring]]] = [:]
        var order: [String] = []
        for link in links {
            guard let (origin, segments) = parts(link) else { continue }
            if byOrigin[origin] == nil { order.append(origin) }
            byOrigin[origin, default: []].append(segments)
        }
        guard let origin = order.max(by: { (byOrigin[$0]?.count ?? 0) < (byOrigin[$1]?.count ?? 0) }),
              let paths = byOrigin[origin], var common = paths.first.map({ Array($0.dropLast()) }) else { return nil }
        for path in paths.dropFirst() {
            let directories = path.dropLast()
            var shared = 0
            while shared < common.count, shared < directories.count, common[shared] == directories[directories.startIndex + shared] { shared += 1 }
            common.removeLast(common.count - shared)
        }
        if let firstNumber = common.firstIndex(where: { $0.allSatisfy(\.isNumber) }) { common.removeLast(common.count - firstNumber) }
        // A feed of one entry says nothing about a section.
        if paths.count < 2 { common = [] }
        return BackfillScope(origin: origin, pathPrefix: "/" + common.map { $0 + "/" }.joined())
    }

    /// Whether `url` is one of the scope's pages (http and https count as one origin).
    func contains(_ url: String) -> Bool {
        guard let (origin, _) = Self.parts(url), Self.withoutScheme(origin) == Self.withoutScheme(self.origin),
              let path = URLComponents(string: url)?.percentEncodedPath else { return false }
        return (path.isEmpty ? "/" : path).hasPrefix(pathPrefix)
    }

    private static func withoutScheme(_ origin: String) -> Substring {
        origin.split(separator: "://", maxSplits: 1).last ?? Substring(origin)
    }

    /// The origin and the path segments of an http(s) URL.
    static func parts(_ url: String) -> (String, [Substring])? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host?.lowercased(), !host.isEmpty else { return nil }
        let origin = "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
        return (origin, components.percentEncodedPath.split(separator: "/"))
    }
}
