import Dispatch
import Foundation

/// Runs CPU-heavy work (parsing a feed, extracting a page, fingerprinting entries) on Dispatch's
/// threads instead of Swift's cooperative pool, one piece per core at a time. The pool has one
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

/// At most one piece of work per core runs at once: more threads would add malloc arenas and
/// memory (a 5,000-feed pass peaked 30 MB higher with Dispatch's unbounded width), not speed.
/// The rest wait in order.
private final class WorkGate: @unchecked Sendable {
    static let shared = WorkGate(width: max(1, ProcessInfo.processInfo.activeProcessorCount))

    private let width: Int
    private let lock = NSLock()
    private var running = 0
    private var waiting: [@Sendable () -> Void] = []
    private var head = 0

    init(width: Int) { self.width = width }

    func submit(_ job: @escaping @Sendable () -> Void) {
        lock.lock()
        if running < width {
            running += 1
            lock.unlock()
            start(job)
        } else {
            waiting.append(job)
            lock.unlock()
        }
    }

    private func start(_ job: @escaping @Sendable () -> Void) {
        DispatchQueue.global(qos: .utility).async {
            job()
            self.finished()
        }
    }

    private func finished() {
        lock.lock()
        guard head < waiting.count else {
            running -= 1
            waiting.removeAll(keepingCapacity: true)
            head = 0
            lock.unlock()
            return
        }
        let next = waiting[head]
        head += 1
        lock.unlock()
        start(next)
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
