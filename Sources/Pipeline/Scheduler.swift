import FeedConfig
import FeedModel
import Foundation
import StateStore

/// When a feed is polled next: as often as it changes and no more.
///
/// The interval is half the mean gap between the feed's recent entries, clamped to the
/// configured minimum and maximum; the publisher's hints (RSS `ttl`, `sy:updatePeriod` /
/// `sy:updateFrequency`, Cache-Control max-age / Expires) are lower bounds; `skipHours` /
/// `skipDays` move the poll out of the hours and days the publisher asked to be left alone;
/// jitter spreads feeds of one host; errors back off (see `Backoff`).
public struct PollScheduler: Sendable, Equatable {
    /// Global bounds, seconds (defaults: 5 min, 4 h).
    public var minimumInterval: TimeInterval
    public var maximumInterval: TimeInterval
    /// Interval for a feed whose entries carry no dates.
    public var defaultInterval: TimeInterval
    /// Up to this fraction of the interval is added as jitter.
    public var jitter: Double
    /// Error backoff: the first retry after `backoffBase` seconds, doubling up to `maxBackoff`.
    public var backoffBase: TimeInterval
    public var maxBackoff: TimeInterval

    public init(minimumInterval: TimeInterval = 300, maximumInterval: TimeInterval = 14_400,
                defaultInterval: TimeInterval = 3600, jitter: Double = 0.1, backoffBase: TimeInterval = 300,
                maxBackoff: TimeInterval = 86_400) {
        self.minimumInterval = minimumInterval
        self.maximumInterval = maximumInterval
        self.defaultInterval = defaultInterval
        self.jitter = jitter
        self.backoffBase = backoffBase
        self.maxBackoff = maxBackoff
    }

    /// A feed's schedule after a successful poll at `now`: the interval its rhythm and hints call
    /// for (`observation`; nil for "not modified", which keeps the rhythm found last time), the
    /// error count cleared, and a Retry-After still in force kept.
    public func afterSuccess(_ schedule: FeedSchedule, feed: FeedSource, now: Date, observation: Observation?) -> FeedSchedule {
        var next = schedule
        next.consecutiveErrors = 0
        if let observation {
            next.pollInterval = interval(for: observation, minimum: feed.minInterval, maximum: feed.maxInterval)
            next.nextPollAt = nextPoll(after: now, observation: observation, seed: feed.url, minimum: feed.minInterval, maximum: feed.maxInterval)
        } else {
            let interval = schedule.pollInterval ?? defaultInterval
            next.nextPollAt = nextPoll(after: now, observation: .init(freshnessLifetime: schedule.freshnessLifetime),
                                       seed: feed.url, minimum: interval, maximum: interval)
        }
        if let until = schedule.nextPollAt, until > (next.nextPollAt ?? .distantPast), schedule.consecutiveErrors == 0 {
            next.nextPollAt = until  // A Retry-After still in force.
        }
        return next
    }

    /// A feed's schedule after one more consecutive error at `now`: the next poll after the
    /// exponential backoff (see `Backoff`).
    public func afterError(_ schedule: FeedSchedule, feed: FeedSource, now: Date) -> FeedSchedule {
        var next = schedule
        next.consecutiveErrors += 1
        next.nextPollAt = now.addingTimeInterval(Backoff.delay(errors: next.consecutiveErrors, base: backoffBase, cap: maxBackoff, seed: feed.url))
        return next
    }

    /// Why a feed is not polled now (disabled, or not due and `pollAll` is off), or nil.
    public func skipReason(_ schedule: FeedSchedule, now: Date, pollAll: Bool) -> String? {
        if let reason = schedule.disabledReason { return "disabled: \(reason)" }
        if !pollAll, let due = schedule.nextPollAt, due > now {
            let why = schedule.consecutiveErrors > 0 ? "backing off after \(schedule.consecutiveErrors) consecutive errors" : "scheduled"
            return "not due until \(ISO8601.string(due)) (\(why)); --all polls it anyway"
        }
        return nil
    }

    /// What a successful poll tells the scheduler.
    public struct Observation: Sendable, Equatable {
        /// Publication dates of the entries in the document.
        public var entryDates: [Date]
        public var ttlMinutes: Int?
        public var updatePeriod: String?
        public var updateFrequency: Int?
        public var skipHours: [Int]
        public var skipDays: [String]
        /// Cache-Control max-age / Expires of the response.
        public var freshnessLifetime: TimeInterval?
        /// The poll shared no entry with what was known and the document was full: entries may
        /// have been missed, so the feed is polled sooner.
        public var windowOverflow: Bool

        public init(entryDates: [Date] = [], ttlMinutes: Int? = nil, updatePeriod: String? = nil, updateFrequency: Int? = nil,
                    skipHours: [Int] = [], skipDays: [String] = [], freshnessLifetime: TimeInterval? = nil, windowOverflow: Bool = false) {
            self.entryDates = entryDates
            self.ttlMinutes = ttlMinutes
            self.updatePeriod = updatePeriod
            self.updateFrequency = updateFrequency
            self.skipHours = skipHours
            self.skipDays = skipDays
            self.freshnessLifetime = freshnessLifetime
            self.windowOverflow = windowOverflow
        }

        public init(feed: ParsedFeed, freshnessLifetime: TimeInterval?, windowOverflow: Bool) {
            self.init(entryDates: feed.entries.compactMap { $0.published ?? $0.updated }, ttlMinutes: feed.ttlMinutes,
                      updatePeriod: feed.updatePeriod, updateFrequency: feed.updateFrequency, skipHours: feed.skipHours,
                      skipDays: feed.skipDays, freshnessLifetime: freshnessLifetime, windowOverflow: windowOverflow)
        }
    }

    /// The interval before jitter, with per-feed bounds (nil: the global ones).
    public func interval(for observation: Observation, minimum: TimeInterval? = nil, maximum: TimeInterval? = nil) -> TimeInterval {
        let low = max(minimum ?? minimumInterval, 1)
        let high = max(maximum ?? maximumInterval, low)
        var interval = adaptiveInterval(observation.entryDates)
        if observation.windowOverflow { interval /= 4 }
        interval = min(max(interval, low), high)
        // The publisher's hints are lower bounds: never poll more often than they allow.
        if let ttl = observation.ttlMinutes, ttl > 0 { interval = max(interval, TimeInterval(ttl) * 60) }
        if let period = Self.syndicationPeriod(observation.updatePeriod, frequency: observation.updateFrequency) {
            interval = max(interval, period)
        }
        if let fresh = observation.freshnessLifetime, fresh > 0 { interval = max(interval, min(fresh, 86_400)) }
        return interval
    }

    /// The next poll time after a successful poll at `now`.
    public func nextPoll(after now: Date, observation: Observation, seed: String,
                         minimum: TimeInterval? = nil, maximum: TimeInterval? = nil) -> Date {
        let base = interval(for: observation, minimum: minimum, maximum: maximum)
        let due = now.addingTimeInterval(base + base * jitter * Self.unit(seed: seed, salt: UInt64(now.timeIntervalSince1970)))
        return Self.avoidingSkips(due, hours: observation.skipHours, days: observation.skipDays)
    }

    /// Half the mean gap between the most recent entries (at most 20); the default without dates.
    public func adaptiveInterval(_ dates: [Date]) -> TimeInterval {
        let recent = dates.sorted(by: >).prefix(20)
        guard recent.count >= 2, let newest = recent.first, let oldest = recent.last else { return defaultInterval }
        let meanGap = newest.timeIntervalSince(oldest) / Double(recent.count - 1)
        return meanGap > 0 ? meanGap / 2 : minimumInterval
    }

    /// `sy:updatePeriod` / `sy:updateFrequency` as seconds between updates.
    public static func syndicationPeriod(_ period: String?, frequency: Int?) -> TimeInterval? {
        guard let period else { return nil }
        let seconds: TimeInterval
        switch period.lowercased() {
        case "hourly": seconds = 3600
        case "daily": seconds = 86_400
        case "weekly": seconds = 7 * 86_400
        case "monthly": seconds = 30 * 86_400
        case "yearly": seconds = 365 * 86_400
        default: return nil
        }
        return seconds / Double(max(frequency ?? 1, 1))
    }

    /// Moves `date` forward out of skipped hours (GMT, 0–23) and skipped days (English names).
    public static func avoidingSkips(_ date: Date, hours: [Int], days: [String]) -> Date {
        let skippedHours = Set(hours.map { $0 % 24 })
        let skippedDays = Set(days.compactMap { weekdayIndex($0) })
        guard !skippedHours.isEmpty || !skippedDays.isEmpty, skippedHours.count < 24, skippedDays.count < 7 else { return date }
        var candidate = date
        for _ in 0..<(24 * 8) {
            let seconds = Int(candidate.timeIntervalSince1970.rounded(.down))
            let hour = ((seconds % 86_400) + 86_400) % 86_400 / 3600
            let weekday = ((seconds / 86_400) + 4) % 7  // 1970-01-01 was a Thursday; 0 = Sunday
            if !skippedHours.contains(hour) && !skippedDays.contains(weekday) { return candidate }
            // The start of the next hour.
            candidate = Date(timeIntervalSince1970: TimeInterval((seconds / 3600 + 1) * 3600))
        }
        return date
    }

    static func weekdayIndex(_ name: String) -> Int? {
        ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
            .firstIndex(of: name.trimmingCharacters(in: .whitespaces).lowercased())
    }

    /// A number in [0, 1) from a seed: the same feed gets the same jitter for the same poll.
    static func unit(seed: String, salt: UInt64) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ salt
        for byte in seed.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        hash ^= hash >> 33
        hash = hash &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        return Double(hash % 1_000_000) / 1_000_000
    }
}
