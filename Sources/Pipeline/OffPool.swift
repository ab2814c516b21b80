import Dispatch
import Foundation

/// Runs CPU-heavy work (parsing a feed, extracting a page, fingerprinting entries) on Dispatch's
/// threads instead of Swift's cooperative pool. The pool has one thread per core (two on a
/// small machine): a few long parses there would starve the service loop, so the watchdog ping,
/// /healthz and signal handling would wait for them.
enum OffPool {
    static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async { continuation.resume(returning: work()) }
        }
    }

    /// `work`'s result, or nil when it has not finished within `seconds`. libxml2 cannot be
    /// interrupted: late work runs on to its end on its Dispatch thread and its result is dropped,
    /// but the caller moves on (the input caps keep such work finite).
    static func run<T: Sendable>(deadline seconds: Double, _ work: @escaping @Sendable () -> T) async -> T? {
        let once = ResumeOnce<T?>()
        return await withCheckedContinuation { continuation in
            once.set(continuation)
            DispatchQueue.global(qos: .utility).async { once.resume(work()) }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { once.resume(nil) }
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
