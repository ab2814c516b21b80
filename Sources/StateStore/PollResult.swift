import Foundation

/// How a feed's last poll ended, as the state records it (`feeds.last_result`).
public enum PollResult: String, Sendable, Equatable {
    /// Fetched and parsed (new stories stored or not).
    case ok
    /// 304, or a body byte-identical to the last one.
    case notModified = "not_modified"
    /// A failure: counts towards the backoff.
    case error
    /// Waiting for a host that asked to wait (Retry-After): not the feed's failure.
    case held
}
