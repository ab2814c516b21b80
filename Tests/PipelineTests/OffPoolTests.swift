#if canImport(Glibc)
import Glibc
#endif
@testable import Pipeline
import Testing

/// The CPU-heavy work runs on the pool's own threads, below the priority of Swift's pool, so the
/// one-at-a-time ingest and the service loop go first when the cores are busy.
@Suite struct OffPoolTests {
    @Test func workRunsAtALowerPriorityOnThreadsOfItsOwn() async {
        let here = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let priority = await OffPool.run { getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) }
        #expect(priority == min(19, here + 10))
        // Every piece runs, in order, however many are queued behind the threads.
        let results = await withTaskGroup(of: Int.self) { group in
            for value in 0..<200 { group.addTask { await OffPool.run { value * 2 } } }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(results.sorted() == (0..<200).map { $0 * 2 })
    }
}
