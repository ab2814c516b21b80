import Fetcher
import Foundation
import StateStore

/// Error backoff: exponential with jitter, capped.
public enum Backoff {
    /// Seconds to wait after the `errors`-th consecutive failure: `base · 2^(errors−1)`, stretched
    /// by up to 20 % of jitter (derived from `seed`, so feeds of one host spread out but a given
    /// feed's schedule is reproducible), never more than `cap`.
    public static func delay(errors: Int, base: TimeInterval, cap: TimeInterval, seed: String) -> TimeInterval {
        guard errors > 0 else { return 0 }
        let exponential = base * pow(2, Double(min(errors - 1, 30)))
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in seed.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        hash = (hash ^ UInt64(errors)) &* 0x0000_0100_0000_01B3
        let jitter = Double(hash % 10_000) / 10_000 * 0.2
        return min(cap, exponential * (1 + jitter))
    }
}

/// How a permanent redirect changes the URL a feed is polled at. The configured URL stays the
/// feed's identity; only the URL fetched changes.
public enum RedirectPolicy {
    /// The schedule after a successful response to a request for `requested`.
    ///
    /// A 301/308 chain to another URL is applied once it has been seen on two polls in a row
    /// (a one-off misconfiguration must not move the feed for good); an upgrade from http to https
    /// of the same host and path is applied at once. 302/307 are never remembered.
    public static func update(_ schedule: FeedSchedule, requested: String, response: FetchResponse) -> (FeedSchedule, applied: String?) {
        var next = schedule
        guard let target = response.permanentLocation, target != requested else {
            next.pendingRedirect = nil
            next.pendingRedirectCount = 0
            return (next, nil)
        }
        let count = schedule.pendingRedirect == target ? schedule.pendingRedirectCount + 1 : 1
        if isHTTPSUpgrade(from: requested, to: target) || count >= 2 {
            next.fetchURL = target
            next.pendingRedirect = nil
            next.pendingRedirectCount = 0
            return (next, target)
        }
        next.pendingRedirect = target
        next.pendingRedirectCount = count
        return (next, nil)
    }

    static func isHTTPSUpgrade(from old: String, to new: String) -> Bool {
        guard let from = URLComponents(string: old), let to = URLComponents(string: new),
              from.scheme?.lowercased() == "http", to.scheme?.lowercased() == "https" else { return false }
        return from.host?.lowercased() == to.host?.lowercased() && from.path == to.path && from.query == to.query
    }
}
