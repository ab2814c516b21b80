import Foundation
import Testing

/// Runs each test it is given to on a thread of its own instead of Swift concurrency's shared
/// threads (as many as the machine has cores: two on CI).
///
/// Tests that wait synchronously (for a child process, or polling with `usleep`; a scratch
/// PostgreSQL server's `initdb` and start) hold the thread they run on for as long as they wait.
/// On the shared pool two such waits at once stop every other test's async work: a CI run once
/// had a service test's pass held up for 100 s while a proof run and a CLI test waited. A test
/// under this trait waits on its own thread.
public struct OffTheCooperativePool: TestTrait, SuiteTrait, TestScoping {
    public init() {}

    public var isRecursive: Bool { true }

    /// The executor of the test running now (nil outside a test under this trait).
    @TaskLocal public static var executor: DedicatedThreadExecutor?

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        // A suite's scope spans its tests; each test gets its own thread.
        guard !test.isSuite else { return try await function() }
        let executor = DedicatedThreadExecutor()
        defer { executor.stop() }
        try await Self.$executor.withValue(executor) {
            try await withTaskExecutorPreference(executor) { try await function() }
        }
    }
}

extension Trait where Self == OffTheCooperativePool {
    /// The test's body runs on a thread of its own (see `OffTheCooperativePool`).
    public static var offTheCooperativePool: Self { OffTheCooperativePool() }
}

/// A task executor with one thread that runs the jobs given to it in order.
public final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    // All guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private var thread: pthread_t?

    public init() {
        Thread { [self] in runJobs() }.start()
    }

    /// The thread's id (waits for the thread to have started).
    public var threadID: pthread_t {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let thread { return thread }
            condition.wait()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.broadcast()
        condition.unlock()
    }

    /// Lets the thread end once the jobs given so far have run.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func runJobs() {
        condition.lock()
        thread = pthread_self()
        condition.broadcast()
        condition.unlock()
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
