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

    /// - Parameter margin: added to `delay`; default a tenth of it, at least 20 ms, at most 250 ms.
    public init(database: ClusterDatabase, delay: Double, margin: Double? = nil) {
        self.database = database
        spacing = delay + (margin ?? min(0.25, max(0.02, delay / 10)))
    }

    public func admit(host: String) async throws -> HostAdmission {
        switch try await database.reserveSlot(host: host, delay: spacing) {
        case let .wait(seconds, _): .after(.nanoseconds(Int64((seconds * 1e9).rounded(.up))))
        case let .held(until): .held(until: until)
        }
    }
}
