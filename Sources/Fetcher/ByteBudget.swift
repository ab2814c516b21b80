import Foundation

/// Bytes of response bodies that a group of requests (a pass's article pages) may hold at once.
/// A request with a `ByteBudget.Ticket` starts only when its ticket's bytes fit (one always may
/// when nothing is held, so a page larger than the budget still runs, alone), and the bytes stay
/// held until the caller is done with the body and releases the ticket. The check happens when
/// the client would start the transfer, after politeness delays, so waiting on a slow host holds
/// nothing.
public final class ByteBudget: @unchecked Sendable {
    public let capacity: Int
    private let lock = NSLock()
    private var used = 0
    private let onRelease: @Sendable () -> Void

    /// `onRelease` is told when bytes come free (the client wakes its queue).
    public init(capacity: Int, onRelease: @escaping @Sendable () -> Void = {}) {
        self.capacity = capacity
        self.onRelease = onRelease
    }

    /// Bytes held now.
    public var held: Int { lock.withLock { used } }

    /// A claim on `bytes` of this budget, taken when its request starts.
    public func ticket(bytes: Int) -> Ticket { Ticket(budget: self, bytes: bytes) }

    fileprivate func reserve(_ bytes: Int) -> Bool {
        lock.withLock {
            guard used == 0 || used + bytes <= capacity else { return false }
            used += bytes
            return true
        }
    }

    fileprivate func release(_ bytes: Int) {
        lock.withLock { used -= bytes }
        onRelease()
    }

    /// One request's claim. `release()` gives the bytes back (once; later calls do nothing).
    public final class Ticket: @unchecked Sendable, Equatable {
        public let bytes: Int
        private let budget: ByteBudget
        private let lock = NSLock()
        private var holding = false

        fileprivate init(budget: ByteBudget, bytes: Int) {
            self.budget = budget
            self.bytes = bytes
        }

        /// Takes the bytes if they fit; true when held (already or now).
        func hold() -> Bool {
            lock.withLock {
                if holding { return true }
                holding = budget.reserve(bytes)
                return holding
            }
        }

        public func release() {
            let wasHolding = lock.withLock { () -> Bool in
                defer { holding = false }
                return holding
            }
            if wasHolding { budget.release(bytes) }
        }

        deinit { release() }

        public static func == (lhs: Ticket, rhs: Ticket) -> Bool { lhs === rhs }
    }
}
