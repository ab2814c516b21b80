import Foundation
import Logging
import PostgresNIO

extension ClusterDatabase {
    /// Runs `body` in a transaction that holds the cluster's commit lock (a transaction-level
    /// advisory lock): story-bearing commits of all workers happen one at a time, so dedupe
    /// decides exactly as on one machine. Returns `body`'s value and how long the lock was held.
    /// The hold is measured from the lock's grant to the end of the COMMIT (when the server
    /// releases it) as seen by this worker.
    public func withCommitLock<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws(ClusterStateError) -> (T, held: Duration) {
        try await perform("take the commit lock") {
            let (value, locked) = try await client.withTransaction(logger: logger) { connection in
                try await ClusterStoreTransaction(connection: connection, logger: logger).lockCommits()
                let locked = ContinuousClock.now
                return (try await body(connection), locked)
            }
            return (value, ContinuousClock.now - locked)
        }
    }
}
