import Foundation

/// Canonical form of an article URL, used to recognise the same article under different links:
/// scheme and host lower-cased, default port, fragment and tracking parameters removed.
public struct URLCanonicalizer: Sendable {
    /// Query parameters that only track the reader. Names ending in `*` are prefixes.
    public static let defaultTrackingParameters: [String] = [
        "utm_*", "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid",
        "ocid", "cmpid", "icid", "_hsenc", "_hsmi", "mkt_tok", "igshid", "yclid", "ref_src",
        "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "sr_share",
    ]

    private let exact: Set<String>
    private let prefixes: [String]

    public init(trackingParameters: [String] = URLCanonicalizer.defaultTrackingParameters) {
        var exact = Set<String>()
        var prefixes: [String] = []
        for name in trackingParameters.map({ $0.lowercased() }) {
            if name.hasSuffix("*") { prefixes.append(String(name.dropLast())) } else { exact.insert(name) }
        }
        self.exact = exact
        self.prefixes = prefixes
    }

    /// The canonical form of `url`, or `url` unchanged (trimmed) when it is not an absolute URL.
    public func canonicalize(_ url: String) -> String {
        // Most URLs have nothing to trim: only look further when an end byte may be white space.
        let ends = [url.utf8.first, url.utf8.last].compactMap { $0 }
        let trimmed = ends.allSatisfy({ $0 > 0x20 && $0 < 0x80 }) ? url : url.trimmingCharacters(in: .whitespacesAndNewlines)
        guard var components = URLComponents(string: trimmed), let scheme = components.scheme else {
            return trimmed
        }
        components.scheme = scheme.lowercased()
        components.host = components.host?.lowercased()
        if (components.scheme == "http" && components.port == 80) || (components.scheme == "https" && components.port == 443) {
            components.port = nil
        }
        components.fragment = nil
        if let items = components.queryItems {
            let kept = items.filter { !isTracking($0.name) }
            components.queryItems = kept.isEmpty ? nil : kept
        }
        if components.path.isEmpty && components.host != nil { components.path = "/" }
        return components.string ?? trimmed
    }

    private func isTracking(_ name: String) -> Bool {
        let lower = name.lowercased()
        return exact.contains(lower) || prefixes.contains(where: { lower.hasPrefix($0) })
    }
}
