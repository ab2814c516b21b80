import Fetcher
import Foundation

/// The cluster's politeness for one worker's HTTP client: every request first reserves its
/// host's next slot in the shared database, and a host one worker saw answer with Retry-After
/// is held for all.
///
/// Slots are `delay + margin` apart by the database's clock. The margin absorbs what the
/// database cannot see: how long each worker takes to hear of its slot and to wake up for it, so
/// that two requests also *arrive* at least `delay` apart.
public struct ClusterHostGate: HostGate {
    let database: ClusterDatabase
    let spacing: Double
    let margin: Double

    /// - Parameter margin: added to `delay`; default a tenth of it, at least 100 ms (what a busy
    ///   machine may take between a worker's admission and its request's arrival), at most 250 ms.
    public init(database: ClusterDatabase, delay: Double, margin: Double? = nil) {
        self.database = database
        self.margin = margin ?? min(0.25, max(0.1, delay / 10))
        spacing = delay + self.margin
    }

    /// Reserves the host's next slot and waits for it. After the wait the state is asked again:
    /// a host another worker was told to leave alone (Retry-After) meanwhile is not asked after
    /// all, and a slot this worker reached too late (it was stalled, or slow to wake) is given up
    /// for a new one, so that request starts stay `delay` apart.
    public func admit(host: String) async throws -> HostAdmission {
        while true {
            switch try await database.reserveSlot(host: host, delay: spacing) {
            case let .wait(seconds, slot):
                guard seconds > 0 else { return .after(.zero) }
                try await Task.sleep(for: .nanoseconds(Int64((seconds * 1e9).rounded(.up))))
                // A quarter of the margin: the rest is left for the time between this check and
                // the request's arrival, which a loaded machine stretches (a proof run beside the
                // whole test suite saw one gap under the delay at half the margin).
                let now = try await database.slotStillValid(host: host, slot: slot, tolerance: margin / 4)
                if let until = now.held { return .held(until: until) }
                if !now.late { return .after(.zero) }
            case let .held(until):
                return .held(until: until)
            }
        }
    }
}
