import Foundation
import TestSupport
import Testing

/// The trait the CLI suites use so that their synchronous waits do not hold Swift concurrency's
/// shared threads.
@Suite(.offTheCooperativePool) struct OffTheCooperativePoolTests {
    /// Whether the caller runs on its test's own thread (a synchronous function: what thread it
    /// is on is the caller's).
    static func onTheTestsThread() -> Bool {
        guard let executor = OffTheCooperativePool.executor else { return false }
        return pthread_equal(pthread_self(), executor.threadID) != 0
    }

    @Test func aSynchronousTestRunsOnAThreadOfItsOwn() {
        #expect(Self.onTheTestsThread())
    }

    @Test func anAsynchronousTestRunsOnItBeforeAndAfterItWaits() async throws {
        #expect(Self.onTheTestsThread())
        try await Task.sleep(for: .milliseconds(1))
        #expect(Self.onTheTestsThread())
    }

    @Test func aDetachedTaskRunsElsewhere() async throws {
        let executor = try #require(OffTheCooperativePool.executor)
        let thread = await Task.detached { pthread_self() }.value
        #expect(pthread_equal(thread, executor.threadID) == 0)
    }
}
