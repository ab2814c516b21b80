import Foundation

/// What a feed server's answer means for the poll, decided from its status and headers alone
/// (as Miniflux's response handler does), so that the pipeline only acts on it.
public enum FeedAnswer: Sendable, Equatable {
    /// 2xx: a document to read.
    case document
    /// 304 Not Modified.
    case notModified
    /// 410 Gone: the publisher retired the feed; it is to be disabled.
    case gone(message: String)
    /// 429 or 503 with a Retry-After: the host is to be left alone until then.
    case retryLater(until: Date, message: String)
    /// Any other answer: a failure, with advice for the operator.
    case failed(message: String)
}

extension FetchResponse {
    /// What this answer to a feed request means; `now` reads a Retry-After in seconds.
    public func feedAnswer(now: Date) -> FeedAnswer {
        if status == 410 { return .gone(message: failureMessage) }
        if status == 429 || status == 503, let until = retryAfter(now: now) {
            return .retryLater(until: until, message: failureMessage)
        }
        if isNotModified { return .notModified }
        guard isSuccess else { return .failed(message: failureMessage) }
        return .document
    }

    /// "HTTP 404 from URL: advice", for a feed answer that is not a document.
    public var failureMessage: String {
        let advice: String
        switch status {
        case 401, 403: advice = "the server refuses access; check whether the feed needs credentials or blocks this User-Agent"
        case 404: advice = "the feed is not at this URL; check it or remove the feed"
        case 410: advice = "the publisher says the feed is gone for good; it is no longer polled: remove it from the config or change its URL"
        case 429: advice = "the server is rate limiting; it is tried again later"
        case 500...599: advice = "the server has a problem; it is tried again later"
        default: advice = "an unexpected response"
        }
        return "HTTP \(status) from \(effectiveURL): \(advice)"
    }
}
