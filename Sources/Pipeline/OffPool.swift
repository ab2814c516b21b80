import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs CPU-heavy work (parsing a feed, extracting a page, fingerprinting entries) on threads of
/// its own instead of Swift's cooperative pool, one piece per core at a time. The pool has one
/// thread per core (two on a small machine): a few long parses there would starve the service
/// loop, so the watchdog ping, /healthz and signal handling would wait for them.
enum OffPool {
    static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            WorkGate.shared.submit { continuation.resume(returning: work()) }
        }
    }

    /// `work`'s result, or nil when it has not finished within `seconds` of starting. libxml2
    /// cannot be interrupted: late work runs on to its end on its thread and its result is
    /// dropped, but the caller moves on (the input caps keep such work finite).
    static func run<T: Sendable>(deadline seconds: Double, _ work: @escaping @Sendable () -> T) async -> T? {
        let once = ResumeOnce<T?>()
        return await withCheckedContinuation { continuation in
            once.set(continuation)
            WorkGate.shared.submit {
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { once.resume(nil) }
                once.resume(work())
            }
        }
    }
}

/// One thread per core runs the work, in order of submission: more threads would add malloc
/// arenas and memory (a 5,000-feed pass peaked 30 MB higher with Dispatch's unbounded width),
/// not speed. The threads are the process's own and run at a lower priority (nice +10): when the
/// cores are busy, the one-at-a-time work on Swift's pool (the ingestor deciding and storing in
/// feed order, the service loop) goes first, and the parsing and fingerprinting that feed it
/// fill the rest of the time. On a 1,000-feed pass (feeds only) that took the wall time from
/// 9.4 s to 8.7 s (bench/ingest-scale.sh).
private final class WorkGate: @unchecked Sendable {
    static let shared = WorkGate(width: max(1, ProcessInfo.processInfo.activeProcessorCount))

    private let condition = NSCondition()
    private var waiting: [@Sendable () -> Void] = []
    private var head = 0

    init(width: Int) {
        for index in 0..<width {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "feedcorpus-work-\(index)"
            thread.stackSize = 8 << 20  // libxml2 and the DOM walks recurse; as a main thread has
            thread.start()
        }
    }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        waiting.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        // Linux keeps the nice value per thread; `who` 0 is the calling thread.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        while true {
            condition.lock()
            while head == waiting.count { condition.wait() }
            let job = waiting[head]
            // The slot lets go of the job at once: a finished job's captures (a page's bytes)
            // must not wait in the queue until it drains, which under load it may never do.
            waiting[head] = {}
            head += 1
            if head == waiting.count {
                waiting.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1_024, head * 2 >= waiting.count {
                waiting.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
        }
    }
}

/// A continuation resumed by whichever of two racers comes first.
private final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?

    func set(_ continuation: CheckedContinuation<T, Never>) {
        lock.withLock { self.continuation = continuation }
    }

    func resume(_ value: T) {
        let pending = lock.withLock { () -> CheckedContinuation<T, Never>? in
            defer { continuation = nil }
            return continuation
        }
        pending?.resume(returning: value)
    }
}
