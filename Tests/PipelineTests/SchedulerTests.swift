import FeedModel
import FeedConfig
import Foundation
import Pipeline
import StateStore
import Testing

@Suite struct SchedulerTests {
    let scheduler = PollScheduler(minimumInterval: 300, maximumInterval: 14_400, defaultInterval: 3600, jitter: 0.1)
    let start = Date(timeIntervalSince1970: 1_730_721_600)  // 2024-11-04T12:00:00Z, a Monday

    func dates(every gap: TimeInterval, count: Int) -> [Date] {
        (0..<count).map { start.addingTimeInterval(-Double($0) * gap) }
    }

    @Test func halfTheMeanGapBetweenEntries() {
        #expect(scheduler.interval(for: .init(entryDates: dates(every: 3600, count: 10))) == 1800)
        #expect(scheduler.interval(for: .init(entryDates: [])) == 3600)  // no dates: the default
    }

    @Test func clampedToGlobalAndPerFeedBounds() {
        #expect(scheduler.interval(for: .init(entryDates: dates(every: 60, count: 10))) == 300)
        #expect(scheduler.interval(for: .init(entryDates: dates(every: 86_400, count: 10))) == 14_400)
        #expect(scheduler.interval(for: .init(entryDates: dates(every: 60, count: 10)), minimum: 900) == 900)
        #expect(scheduler.interval(for: .init(entryDates: dates(every: 86_400, count: 10)), maximum: 7200) == 7200)
    }

    @Test func publisherHintsAreLowerBounds() {
        let busy = dates(every: 600, count: 10)  // would give 300 s
        #expect(scheduler.interval(for: .init(entryDates: busy, ttlMinutes: 60)) == 3600)
        #expect(scheduler.interval(for: .init(entryDates: busy, updatePeriod: "hourly", updateFrequency: 2)) == 1800)
        #expect(scheduler.interval(for: .init(entryDates: busy, updatePeriod: "daily")) == 86_400)
        #expect(scheduler.interval(for: .init(entryDates: busy, freshnessLifetime: 1200)) == 1200)
        // A hint below the computed interval changes nothing.
        #expect(scheduler.interval(for: .init(entryDates: dates(every: 7200, count: 10), ttlMinutes: 5)) == 3600)
    }

    @Test func windowOverflowPollsSooner() {
        let normal = scheduler.interval(for: .init(entryDates: dates(every: 7200, count: 10)))
        let overflow = scheduler.interval(for: .init(entryDates: dates(every: 7200, count: 10), windowOverflow: true))
        #expect(overflow < normal)
        #expect(overflow >= 300)
    }

    @Test func jitterStaysWithinItsShareAndSpreadsFeeds() {
        let observation = PollScheduler.Observation(entryDates: dates(every: 3600, count: 10))
        var offsets = Set<Int>()
        for feed in 0..<50 {
            let next = scheduler.nextPoll(after: start, observation: observation, seed: "https://a.example/feed\(feed)")
            let delay = next.timeIntervalSince(start)
            #expect(delay >= 1800 && delay <= 1980)
            offsets.insert(Int(delay))
        }
        #expect(offsets.count > 25)
    }

    @Test func skipHoursAndDaysMoveThePollOut() {
        // 12:00Z Monday, hours 12 and 13 skipped: the poll moves to 14:00Z.
        let moved = PollScheduler.avoidingSkips(start, hours: [12, 13], days: [])
        #expect(moved == start.addingTimeInterval(2 * 3600))
        // Monday skipped: the poll moves to Tuesday 00:00Z.
        let tuesday = PollScheduler.avoidingSkips(start, hours: [], days: ["Monday"])
        #expect(tuesday == Date(timeIntervalSince1970: 1_730_764_800))
        #expect(PollScheduler.avoidingSkips(start, hours: [3], days: ["Sunday"]) == start)
    }

    @Test func syndicationPeriods() {
        #expect(PollScheduler.syndicationPeriod("weekly", frequency: 7) == 86_400)
        #expect(PollScheduler.syndicationPeriod("fortnightly", frequency: 1) == nil)
        #expect(PollScheduler.syndicationPeriod(nil, frequency: 3) == nil)
    }

    /// The schedule changes of a poll's outcomes, decided by the scheduler (not by the pass).
    @Test func successErrorsAndSkipsChangeTheScheduleInOnePlace() {
        let feed = FeedSource(url: "https://news.example/rss", name: "news")
        let erring = FeedSchedule(consecutiveErrors: 2)
        let errored = scheduler.afterError(erring, feed: feed, now: start)
        #expect(errored.consecutiveErrors == 3)
        #expect(errored.nextPollAt == start.addingTimeInterval(Backoff.delay(errors: 3, base: 300, cap: 86_400, seed: feed.url)))

        let recovered = scheduler.afterSuccess(errored, feed: feed, now: start, observation: .init(entryDates: dates(every: 3600, count: 10)))
        #expect(recovered.consecutiveErrors == 0)
        #expect(recovered.pollInterval == 1800)
        let next = recovered.nextPollAt ?? .distantPast
        #expect(next >= start.addingTimeInterval(1800) && next <= start.addingTimeInterval(1800 * 1.1))

        // Not modified keeps the rhythm; a Retry-After still in force is kept.
        var held = FeedSchedule(nextPollAt: start.addingTimeInterval(7200), pollInterval: 600)
        let unchanged = scheduler.afterSuccess(held, feed: feed, now: start, observation: nil)
        #expect(unchanged.pollInterval == 600 && unchanged.nextPollAt == start.addingTimeInterval(7200))
        held.nextPollAt = nil
        let rhythm = scheduler.afterSuccess(held, feed: feed, now: start, observation: nil).nextPollAt ?? .distantPast
        #expect(rhythm >= start.addingTimeInterval(600) && rhythm <= start.addingTimeInterval(660))

        #expect(scheduler.skipReason(FeedSchedule(disabledReason: "HTTP 410"), now: start, pollAll: true) == "disabled: HTTP 410")
        let later = FeedSchedule(nextPollAt: start.addingTimeInterval(60), consecutiveErrors: 1)
        #expect(scheduler.skipReason(later, now: start, pollAll: false)?.hasPrefix("not due until 2024-11-04T12:01:00Z (backing off after 1 consecutive errors)") == true)
        #expect(scheduler.skipReason(later, now: start, pollAll: true) == nil)
    }
}
