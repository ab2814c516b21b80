import Fetcher
import Foundation

/// The cluster's politeness for one worker's HTTP client: every request first reserves its
/// host's next slot in the shared database (slots `delay` seconds apart for all workers), and a
/// host one worker saw answer with Retry-After is held for all.
public struct ClusterHostGate: HostGate {
    let database: ClusterDatabase
    let delay: Double

    public init(database: ClusterDatabase, delay: Double) {
        self.database = database
        self.delay = delay
    }

    public func admit(host: String) async throws -> HostAdmission {
        switch try await database.reserveSlot(host: host, delay: delay) {
        case let .wait(seconds, _): .after(.nanoseconds(Int64((seconds * 1e9).rounded(.up))))
        case let .held(until): .held(until: until)
        }
    }
}
